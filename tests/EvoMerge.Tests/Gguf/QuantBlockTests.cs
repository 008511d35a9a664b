using EvoMerge.IO.Gguf;

namespace EvoMerge.Tests.Gguf;

/// <summary>
/// Block layouts of Q4_0, Q5_0, Q5_1, Q4_K, Q5_K and Q6_K against bytes worked out by hand from the GGUF
/// specification's block structs (inputs chosen so that the best scales are exact), and the decoded values.
/// </summary>
public class QuantBlockTests
{
    static byte[] Encode(GgufTensorType type, float[] x)
    {
        var bytes = new byte[GgufEncoding.ByteCount(type, x.Length)];
        GgufEncoding.Encode(type, x, bytes);
        return bytes;
    }

    static float[] Decode(GgufTensorType type, byte[] bytes, int n)
    {
        var y = new float[n];
        GgufEncoding.Decode(type, bytes, y);
        return y;
    }

    static string Hex(IEnumerable<byte> bytes) => Convert.ToHexString([.. bytes]);

    [Fact]
    public void BlockSizesAreTheSpecifications()
    {
        // ggml type_size per block: Q4_0 2+16, Q5_0 2+4+16, Q5_1 2+2+4+16, Q4_K 2+2+12+128, Q5_K +32 qh, Q6_K 128+64+16+2.
        Assert.Equal(18, GgufEncoding.ByteCount(GgufTensorType.Q4_0, 32));
        Assert.Equal(22, GgufEncoding.ByteCount(GgufTensorType.Q5_0, 32));
        Assert.Equal(24, GgufEncoding.ByteCount(GgufTensorType.Q5_1, 32));
        Assert.Equal(144, GgufEncoding.ByteCount(GgufTensorType.Q4_K, 256));
        Assert.Equal(176, GgufEncoding.ByteCount(GgufTensorType.Q5_K, 256));
        Assert.Equal(210, GgufEncoding.ByteCount(GgufTensorType.Q6_K, 256));
        Assert.True(GgufEncoding.Supports(GgufTensorType.Q6_K, 512));
        Assert.False(GgufEncoding.Supports(GgufTensorType.Q4_K, 64));
        Assert.False(GgufEncoding.Supports(GgufTensorType.Q4_0, 172));
    }

    [Fact]
    public void Q4_0MapsTheSignedExtremeToQuantZero()
    {
        // x[j] = j − 8 and x[j + 16] = 7 − j: the extreme −8 gives d = −8/−8 = 1 (f16 3C00), q = x + 8.
        // Byte j holds element j in its low nibble and element j + 16 in its high nibble: j | (15 − j) << 4.
        var x = Enumerable.Range(0, 16).Select(j => j - 8f).Concat(Enumerable.Range(0, 16).Select(j => 7f - j)).ToArray();
        var b = Encode(GgufTensorType.Q4_0, x);
        Assert.Equal("003C" + "F0E1D2C3B4A5968778695A4B3C2D1E0F", Hex(b));
        Assert.Equal(x, Decode(GgufTensorType.Q4_0, b, 32));

        // A positive extreme gives a negative d: 16 → d = −2 (f16 C000); 16 maps to 0, zeros to 8.
        var y = new float[32];
        y[3] = 16;
        Assert.Equal("00C0" + "888888" + "80" + string.Concat(Enumerable.Repeat("88", 12)), Hex(Encode(GgufTensorType.Q4_0, y)));
    }

    [Fact]
    public void Q5_0AndQ5_1KeepTheFifthBitInQh()
    {
        // Q5_0: x = j − 16 → d = −16/−16 = 1, q = j; qh bit j is set for q ≥ 16 (j ≥ 16): uint32 FFFF0000 little-endian.
        var x = Enumerable.Range(0, 32).Select(j => j - 16f).ToArray();
        string nibbles = "00112233445566778899AABBCCDDEEFF"; // low nibble j & 15, high nibble (j + 16) & 15
        var b = Encode(GgufTensorType.Q5_0, x);
        Assert.Equal("003C" + "0000FFFF" + nibbles, Hex(b));
        Assert.Equal(x, Decode(GgufTensorType.Q5_0, b, 32));

        // Q5_1: x = 0.5 j + 1 → d = 15.5/31 = 0.5 (f16 3800), m = 1 (3C00), q = j.
        var z = Enumerable.Range(0, 32).Select(j => 0.5f * j + 1).ToArray();
        b = Encode(GgufTensorType.Q5_1, z);
        Assert.Equal("0038" + "003C" + "0000FFFF" + nibbles, Hex(b));
        Assert.Equal(z, Decode(GgufTensorType.Q5_1, b, 32));
    }

    /// <summary>Sub-block s (32 values) holds q − s for q = l mod <paramref name="levels"/>: scale 1, min s.</summary>
    static float[] ScaleMinInput(int levels) => Enumerable.Range(0, 256).Select(e => (float)(e % 32 % levels - e / 32)).ToArray();

    [Fact]
    public void Q4_KPacksSixBitScalesAndMinsAsGetScaleMinK4ReadsThem()
    {
        var b = Encode(GgufTensorType.Q4_K, ScaleMinInput(16));
        // d = 1/63 → f16 2410 (0.015869); every scale round(1/d) = 63. dmin = 7/63 → f16 2F1C (0.111084);
        // mins round(s/dmin) = 9s = 0, 9, 18, 27, 36, 45, 54, 63.
        // Bytes 0-3: scale 63 | top bits of scales 4-7 (3) << 6 = FF. Bytes 4-7: min j | (min j+4 >> 4) << 6 =
        // 00|80, 09|80, 12|C0, 1B|C0. Bytes 8-11: (scale j+4 & 15) | (min j+4 & 15) << 4 = 4F, DF, 6F, FF.
        Assert.Equal("1024" + "1C2F", Hex(b[..4]));
        Assert.Equal("FFFFFFFF" + "8089D2DB" + "4FDF6FFF", Hex(b[4..16]));
        // Quants: 64 elements per 32 bytes, first 32 low nibbles, next 32 high: both q = l mod 16 → (l mod 16)·0x11.
        string row = "00112233445566778899AABBCCDDEEFF";
        Assert.Equal(string.Concat(Enumerable.Repeat(row, 8)), Hex(b[16..]));
        AssertClose(ScaleMinInput(16), Decode(GgufTensorType.Q4_K, b, 256), 0.004);
    }

    [Fact]
    public void Q5_KAddsTheFifthBitOfSubBlockSAsBitSOfQh()
    {
        var x = ScaleMinInput(32);
        var b = Encode(GgufTensorType.Q5_K, x);
        // Same d, dmin and packed scales as Q4_K (scale 1 = (hi − lo)/31, min s); q = l: the fifth bit is set for
        // l ≥ 16 in all eight sub-blocks, so qh[l] = FF for l ≥ 16.
        Assert.Equal("1024" + "1C2F" + "FFFFFFFF" + "8089D2DB" + "4FDF6FFF", Hex(b[..16]));
        Assert.Equal(string.Concat(Enumerable.Repeat("00", 16)) + string.Concat(Enumerable.Repeat("FF", 16)), Hex(b[16..48]));
        Assert.Equal(string.Concat(Enumerable.Repeat("00112233445566778899AABBCCDDEEFF", 8)), Hex(b[48..]));
        AssertClose(x, Decode(GgufTensorType.Q5_K, b, 256), 0.008);
    }

    [Fact]
    public void Q6_KStoresSignedScalesAndTwoBitHighParts()
    {
        // Sub-block s (16 values) holds (s + 1)(4i − 32): scale s + 1 with quants 4i − 32. The largest scale 16
        // maps to −128: d = 16/−128 = −0.125 (f16 B000), scale bytes −8(s + 1) = F8, F0, …, 80.
        var x = Enumerable.Range(0, 256).Select(e => (e / 16 + 1) * (4f * (e % 16) - 32)).ToArray();
        var b = Encode(GgufTensorType.Q6_K, x);
        // Stored q = 4i (0..60) for element i of every sub-block. ql[l] holds elements l and l + 64 (both
        // 4(l mod 16)): low nibble 0, 4, 8, C repeating. qh[l] holds bits 4-5 of l, l + 32, l + 64, l + 96:
        // k = (l mod 16)/4 in each pair of bits → 00, 55, AA, FF.
        Assert.Equal(string.Concat(Enumerable.Repeat("004488CC", 32)), Hex(b[..128]));
        Assert.Equal(string.Concat(Enumerable.Repeat(string.Concat(Enumerable.Repeat("00", 4)) + string.Concat(Enumerable.Repeat("55", 4))
            + string.Concat(Enumerable.Repeat("AA", 4)) + string.Concat(Enumerable.Repeat("FF", 4)), 4)), Hex(b[128..192]));
        Assert.Equal(Enumerable.Range(0, 16).Select(s => (byte)(sbyte)(-8 * (s + 1))).ToArray(), b[192..208]);
        Assert.Equal("00B0", Hex(b[208..]));
        Assert.Equal(x, Decode(GgufTensorType.Q6_K, b, 256));
    }

    static void AssertClose(float[] expected, float[] actual, double tolerance)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"element {i}: {expected[i]} vs {actual[i]}");
    }

    // Bounds: 1.5 × the uniform-step estimate step/√12 for a unit Gaussian, where a block of 32 spans about
    // ±2.07σ (±1.77σ for Q6_K's 16): Q8_0 2.07/127, Q6_K 1.77/32, Q5_0 2.07/16, Q5_1 and Q5_K 4.14/31,
    // Q4_0 2.07/8, Q4_K 4.14/15. The lower bound (an eighth) catches a format that silently stores more bits.
    [Theory]
    [InlineData(GgufTensorType.Q8_0, 0.0071)]
    [InlineData(GgufTensorType.Q6_K, 0.024)]
    [InlineData(GgufTensorType.Q5_K, 0.058)]
    [InlineData(GgufTensorType.Q5_1, 0.058)]
    [InlineData(GgufTensorType.Q5_0, 0.056)]
    [InlineData(GgufTensorType.Q4_K, 0.12)]
    [InlineData(GgufTensorType.Q4_0, 0.112)]
    public void GaussianRoundTripErrorIsWithinTheTypesBitBudget(GgufTensorType type, double maxRelativeRms)
    {
        var rng = new Random(3);
        var x = Enumerable.Range(0, 4096).Select(_ => (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()))).ToArray();
        var y = Decode(type, Encode(type, x), x.Length);
        double rms = Math.Sqrt(x.Zip(y, (a, c) => (double)(a - c) * (a - c)).Average() / x.Average(a => (double)a * a));
        Assert.InRange(rms, maxRelativeRms / 8, maxRelativeRms);
    }
}

/// <summary>The per-tensor type mix of llama.cpp's quantize for the _M variants, worked out by hand.</summary>
public class GgufTypeMixTests
{
    static GgufTensorType Type(GgufOutputType t, string name, long row = 4096, int layers = 32, bool hasOutput = true) =>
        GgufTypeMix.Choose(t, name, [4096, row], layers, hasOutput);

    [Fact]
    public void MoreBitsGoToTheFirstAndLastEighthAndEveryThirdLayerBetween()
    {
        // 32 layers: n/8 = 4, 7n/8 = 28 → 0-3, 28-31, and 4 + 3k + 2 = 6, 9, …, 27.
        int[] expected = [0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31];
        Assert.Equal(expected, Enumerable.Range(0, 32).Where(l => GgufTypeMix.UseMoreBits(l, 32)));
        foreach (int l in Enumerable.Range(0, 32))
        {
            var more = expected.Contains(l) ? GgufTensorType.Q6_K : GgufTensorType.Q4_K;
            Assert.Equal(more, Type(GgufOutputType.Q4_K_M, $"blk.{l}.attn_v.weight"));
            Assert.Equal(more, Type(GgufOutputType.Q4_K_M, $"blk.{l}.ffn_down.weight"));
            Assert.Equal(expected.Contains(l) ? GgufTensorType.Q6_K : GgufTensorType.Q5_K, Type(GgufOutputType.Q5_K_M, $"blk.{l}.ffn_down.weight"));
            Assert.Equal(GgufTensorType.Q4_K, Type(GgufOutputType.Q4_K_M, $"blk.{l}.attn_q.weight"));
            Assert.Equal(GgufTensorType.Q4_K, Type(GgufOutputType.Q4_K_M, $"blk.{l}.ffn_up.weight"));
            Assert.Equal(GgufTensorType.Q4_0, Type(GgufOutputType.Q4_0, $"blk.{l}.ffn_down.weight"));
        }
    }

    [Fact]
    public void TheHeadGetsQ6_KAndTheEmbeddingOnlyWhenTied()
    {
        foreach (var t in new[] { GgufOutputType.Q4_K_M, GgufOutputType.Q5_K_M, GgufOutputType.Q6_K, GgufOutputType.Q4_0 })
        {
            Assert.Equal(GgufTensorType.Q6_K, Type(t, "output.weight"));
            Assert.Equal(t.MatrixType(), Type(t, "token_embd.weight"));
            Assert.Equal(GgufTensorType.Q6_K, Type(t, "token_embd.weight", hasOutput: false));
        }
        Assert.Equal(GgufTensorType.Q8_0, Type(GgufOutputType.Q8_0, "output.weight"));
        Assert.Equal(GgufTensorType.F32, GgufTypeMix.Choose(GgufOutputType.Q4_K_M, "blk.0.attn_norm.weight", [4096], 32, true));
    }

    [Fact]
    public void RowsThatAreNotWholeSuperBlocksFallBackAsLlamaCppDoes()
    {
        // 64-long rows (stories260K): Q4_K → Q5_0, Q5_K → Q5_1, Q6_K → Q8_0; 172-long rows: F16.
        Assert.Equal(GgufTensorType.Q5_0, Type(GgufOutputType.Q4_K_M, "blk.1.attn_q.weight", row: 64, layers: 5));
        Assert.Equal(GgufTensorType.Q5_1, Type(GgufOutputType.Q5_K_M, "blk.1.attn_q.weight", row: 64, layers: 5));
        Assert.Equal(GgufTensorType.Q8_0, Type(GgufOutputType.Q6_K, "blk.1.attn_q.weight", row: 64, layers: 5));
        Assert.Equal(GgufTensorType.Q8_0, Type(GgufOutputType.Q4_K_M, "token_embd.weight", row: 64, layers: 5, hasOutput: false));
        Assert.Equal(GgufTensorType.F16, Type(GgufOutputType.Q4_K_M, "blk.1.ffn_down.weight", row: 172, layers: 5));
        Assert.Equal(GgufTensorType.F16, Type(GgufOutputType.Q4_0, "blk.1.ffn_down.weight", row: 172, layers: 5));
    }
}
