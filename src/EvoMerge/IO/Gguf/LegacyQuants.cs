using System.Buffers.Binary;

namespace EvoMerge.IO.Gguf;

/// <summary>
/// ggml's 32-element block formats Q4_0, Q5_0 and Q5_1 (the first two symmetric around a signed f16 scale, Q5_1
/// with an f16 minimum), encoded as ggml's reference quantizers do and decoded as ggml's dequantizers read them.
/// In every block, element j (j &lt; 16) sits in the low nibble of byte j and element j + 16 in its high nibble;
/// the fifth bits of Q5 live in a little-endian uint32 <c>qh</c> (bit j for element j).
/// </summary>
static class LegacyQuants
{
    public const int BlockSize = 32;
    public const int Q4_0Bytes = 2 + 16, Q5_0Bytes = 2 + 4 + 16, Q5_1Bytes = 2 + 2 + 4 + 16;

    /// <summary>Q4_0: d = (value of largest magnitude) / −8, so that value maps to quant 0 exactly; q = x/d + 8.</summary>
    public static void EncodeQ4_0(ReadOnlySpan<float> x, Span<byte> block) => EncodeSymmetric(x, block, bits: 4);

    /// <summary>Q5_0: as Q4_0 with 5-bit quants, d = max / −16.</summary>
    public static void EncodeQ5_0(ReadOnlySpan<float> x, Span<byte> block) => EncodeSymmetric(x, block, bits: 5);

    static void EncodeSymmetric(ReadOnlySpan<float> x, Span<byte> block, int bits)
    {
        int half = 1 << (bits - 1), top = (1 << bits) - 1;
        // The signed extreme (the first of equal magnitudes, +0 for a zero block, as ggml): its sign makes the
        // extreme land on quant 0 rather than on the shorter positive side.
        float max = 0;
        foreach (float v in x) if (MathF.Abs(v) > MathF.Abs(max)) max = v;
        float d = max / -half, id = d != 0f ? 1f / d : 0f;
        BinaryPrimitives.WriteHalfLittleEndian(block, (Half)d);
        Span<byte> q = stackalloc byte[BlockSize];
        for (int j = 0; j < BlockSize; j++) q[j] = (byte)Math.Min(top, (int)(x[j] * id + half + 0.5f));
        Pack(q, block[(bits == 5 ? 6 : 2)..], bits == 5 ? block[2..6] : default);
    }

    /// <summary>Q5_1: d = (max − min)/31 and m = min, both f16; q = round((x − min)/d).</summary>
    public static void EncodeQ5_1(ReadOnlySpan<float> x, Span<byte> block)
    {
        // Plain comparisons keep the first of −0 and +0 as ggml does (TensorPrimitives.Min prefers −0).
        float min = x[0], max = x[0];
        foreach (float v in x)
        {
            if (v < min) min = v;
            if (v > max) max = v;
        }
        float d = (max - min) / 31f, id = d != 0f ? 1f / d : 0f;
        BinaryPrimitives.WriteHalfLittleEndian(block, (Half)d);
        BinaryPrimitives.WriteHalfLittleEndian(block[2..], (Half)min);
        Span<byte> q = stackalloc byte[BlockSize];
        for (int j = 0; j < BlockSize; j++) q[j] = (byte)Math.Min(31, (int)((x[j] - min) * id + 0.5f));
        Pack(q, block[8..], block[4..8]);
    }

    static void Pack(ReadOnlySpan<byte> q, Span<byte> nibbles, Span<byte> highBits)
    {
        uint qh = 0;
        for (int j = 0; j < 16; j++)
        {
            nibbles[j] = (byte)((q[j] & 15) | (q[j + 16] & 15) << 4);
            qh |= (uint)(q[j] >> 4) << j | (uint)(q[j + 16] >> 4) << (j + 16);
        }
        if (!highBits.IsEmpty) BinaryPrimitives.WriteUInt32LittleEndian(highBits, qh);
    }

    static int Quant(ReadOnlySpan<byte> nibbles, uint qh, int j) =>
        (j < 16 ? nibbles[j] & 15 : nibbles[j - 16] >> 4) | (int)((qh >> j) & 1) << 4;

    public static void DecodeQ4_0(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
        for (int j = 0; j < BlockSize; j++) y[j] = (Quant(block[2..], 0, j) - 8) * d;
    }

    public static void DecodeQ5_0(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
        uint qh = BinaryPrimitives.ReadUInt32LittleEndian(block[2..]);
        for (int j = 0; j < BlockSize; j++) y[j] = (Quant(block[6..], qh, j) - 16) * d;
    }

    public static void DecodeQ5_1(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = (float)BinaryPrimitives.ReadHalfLittleEndian(block), m = (float)BinaryPrimitives.ReadHalfLittleEndian(block[2..]);
        uint qh = BinaryPrimitives.ReadUInt32LittleEndian(block[4..]);
        for (int j = 0; j < BlockSize; j++) y[j] = Quant(block[8..], qh, j) * d + m;
    }
}
