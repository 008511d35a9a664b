using EvoMerge.IO.Gguf;

namespace EvoMerge.Tests.Gguf;

// Expected bytes are worked out by hand from the IEEE formats and ggml's quantize_row_q8_0_ref.
public class GgufEncodingTests
{
    [Fact]
    public void Q8_0BlockHasMaxOver127ScaleAndRoundsHalvesAwayFromZero()
    {
        var x = new float[32];
        x[0] = 127f;   // max |x| = 127 → d = 1.0 (f16 0x3C00), 1/d = 1
        x[1] = 2.5f;   // roundf(2.5) = 3 (banker's rounding would give 2)
        x[2] = -2.5f;  // → -3
        x[3] = 0.5f;   // → 1
        x[4] = -127f;  // → -127
        x[5] = 1.4f;   // → 1
        var bytes = new byte[34];
        GgufEncoding.ToQ8_0(x, bytes);
        Assert.Equal(new byte[] { 0x00, 0x3C }, bytes[..2]);
        Assert.Equal(new sbyte[] { 127, 3, -3, 1, -127, 1, 0 }, bytes[2..9].Select(b => (sbyte)b).ToArray());
    }

    [Fact]
    public void Q8_0ScaleIsStoredAsF16OfMaxOver127()
    {
        var x = new float[64];
        x[40] = -0.254f; // second block: d = 0.002 → f16 0x1819 (0.0019998...), quant of -0.254 is -127
        var bytes = new byte[68];
        GgufEncoding.ToQ8_0(x, bytes);
        Assert.Equal(new byte[] { 0, 0 }, bytes[..2]); // all-zero block: d = 0 and all quants 0
        Assert.Equal(new byte[] { 0x19, 0x18 }, bytes[34..36]);
        Assert.Equal(-127, (sbyte)bytes[36 + 8]);
    }

    [Fact]
    public void BFloat16RoundsToNearestEven()
    {
        float[] x =
        [
            1.0f,                                   // 0x3F800000 → 0x3F80
            BitConverter.UInt32BitsToSingle(0x3F808000), // exactly halfway, even below → 0x3F80
            BitConverter.UInt32BitsToSingle(0x3F818000), // halfway, odd below → rounds up to 0x3F82
            BitConverter.UInt32BitsToSingle(0x3F808001), // just above halfway → 0x3F81
            float.NaN,
        ];
        var bytes = new byte[2 * x.Length];
        GgufEncoding.Encode(GgufTensorType.BF16, x, bytes);
        var y = Enumerable.Range(0, x.Length).Select(i => BitConverter.ToUInt16(bytes, 2 * i)).ToArray();
        Assert.Equal(new ushort[] { 0x3F80, 0x3F80, 0x3F82, 0x3F81 }, y[..4]);
        Assert.True((y[4] & 0x7F80) == 0x7F80 && (y[4] & 0x7F) != 0, "NaN must stay NaN");
    }

    [Fact]
    public void F16AndF32EncodeLittleEndian()
    {
        var f16 = new byte[6];
        GgufEncoding.Encode(GgufTensorType.F16, [1.0f, -2.0f, 65504f], f16);
        Assert.Equal(new byte[] { 0x00, 0x3C, 0x00, 0xC0, 0xFF, 0x7B }, f16);
        var f32 = new byte[4];
        GgufEncoding.Encode(GgufTensorType.F32, [1.0f], f32);
        Assert.Equal(new byte[] { 0x00, 0x00, 0x80, 0x3F }, f32);
    }

    [Fact]
    public void Q8_0NeedsRowsOfWholeBlocks()
    {
        Assert.True(GgufEncoding.Supports(GgufTensorType.Q8_0, 64));
        Assert.False(GgufEncoding.Supports(GgufTensorType.Q8_0, 172));
        Assert.True(GgufEncoding.Supports(GgufTensorType.F16, 172));
        Assert.Equal(2 * 34, GgufEncoding.ByteCount(GgufTensorType.Q8_0, 64));
    }
}
