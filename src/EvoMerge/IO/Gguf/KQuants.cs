using System.Buffers.Binary;

namespace EvoMerge.IO.Gguf;

/// <summary>
/// ggml's k-quant super-blocks of 256 elements, laid out as the GGUF specification's block structs:
/// <list type="bullet">
/// <item>Q4_K (144 bytes): f16 d, f16 dmin, 12 bytes of eight 6-bit scales and eight 6-bit mins, 128 bytes of
/// 4-bit quants; element = d·scale·q − dmin·min per sub-block of 32.</item>
/// <item>Q5_K (176 bytes): as Q4_K plus 32 bytes of fifth bits before the nibbles.</item>
/// <item>Q6_K (210 bytes): 128 bytes of low nibbles, 64 bytes of 2-bit high parts, sixteen int8 scales, f16 d;
/// element = d·scale·(q − 32) per sub-block of 16.</item>
/// </list>
/// The scales are chosen by a small least-squares search per sub-block (written here from the formats, not
/// ported): it finds the same kind of optimum as llama.cpp's quantizer, so files are as accurate, not byte-equal.
/// </summary>
static class KQuants
{
    public const int BlockSize = 256;
    public const int Q4_KBytes = 4 + 12 + 128, Q5_KBytes = 4 + 12 + 32 + 128, Q6_KBytes = 128 + 64 + 16 + 2;

    public static void EncodeQ4_K(ReadOnlySpan<float> x, Span<byte> block) => EncodeScaleMin(x, block, bits: 4);

    public static void EncodeQ5_K(ReadOnlySpan<float> x, Span<byte> block) => EncodeScaleMin(x, block, bits: 5);

    static void EncodeScaleMin(ReadOnlySpan<float> x, Span<byte> block, int bits)
    {
        int nmax = (1 << bits) - 1;
        Span<float> scales = stackalloc float[8], mins = stackalloc float[8];
        for (int s = 0; s < 8; s++) (scales[s], mins[s]) = FitScaleMin(x.Slice(32 * s, 32), nmax);
        // Scales and mins are stored as 6-bit multiples of the super-block's f16 d and dmin.
        Half d = (Half)(Max(scales) / 63f), dmin = (Half)(Max(mins) / 63f);
        Span<byte> sc = stackalloc byte[8], m = stackalloc byte[8];
        for (int s = 0; s < 8; s++)
        {
            sc[s] = SixBits(scales[s], (float)d);
            m[s] = SixBits(mins[s], (float)dmin);
        }
        BinaryPrimitives.WriteHalfLittleEndian(block, d);
        BinaryPrimitives.WriteHalfLittleEndian(block[2..], dmin);
        PackScaleMin(sc, m, block.Slice(4, 12));

        Span<byte> q = stackalloc byte[BlockSize];
        for (int s = 0; s < 8; s++)
        {
            float step = (float)d * sc[s], offset = (float)dmin * m[s];
            for (int i = 0; i < 32; i++)
                q[32 * s + i] = step == 0f ? (byte)0 : (byte)Math.Clamp((int)MathF.Round((x[32 * s + i] + offset) / step), 0, nmax);
        }
        Span<byte> nibbles = block[(bits == 5 ? 48 : 16)..];
        Span<byte> qh = bits == 5 ? block.Slice(16, 32) : default;
        if (bits == 5) qh.Clear();
        // Each 64 elements share 32 bytes: the first 32 in the low nibbles, the next 32 in the high nibbles;
        // Q5_K's fifth bit of element l of sub-block s is bit s of qh[l].
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++)
            {
                byte lo = q[64 * c + l], hi = q[64 * c + 32 + l];
                nibbles[32 * c + l] = (byte)((lo & 15) | (hi & 15) << 4);
                if (bits == 5) qh[l] |= (byte)((lo >> 4) << (2 * c) | (hi >> 4) << (2 * c + 1));
            }
    }

    static float Max(ReadOnlySpan<float> v)
    {
        float max = 0;
        foreach (float f in v) max = MathF.Max(max, f);
        return max;
    }

    static byte SixBits(float value, float unit) => unit == 0f ? (byte)0 : (byte)Math.Clamp((int)MathF.Round(value / unit), 0, 63);

    /// <summary>The inverse of the specification's <c>get_scale_min_k4</c>: sub-blocks 0–3 keep 6 bits in bytes 0–7,
    /// sub-blocks 4–7 keep their low 4 bits in bytes 8–11 and their top 2 bits in the spare top bits of bytes 0–7.</summary>
    static void PackScaleMin(ReadOnlySpan<byte> sc, ReadOnlySpan<byte> m, Span<byte> packed)
    {
        for (int j = 0; j < 4; j++)
        {
            packed[j] = (byte)(sc[j] | (sc[j + 4] >> 4) << 6);
            packed[j + 4] = (byte)(m[j] | (m[j + 4] >> 4) << 6);
            packed[j + 8] = (byte)((sc[j + 4] & 15) | (m[j + 4] & 15) << 4);
        }
    }

    static (int Scale, int Min) ScaleMin(ReadOnlySpan<byte> packed, int j) => j < 4
        ? (packed[j] & 63, packed[j + 4] & 63)
        : ((packed[j + 4] & 15) | (packed[j - 4] >> 6) << 4, (packed[j + 4] >> 4) | (packed[j] >> 6) << 4);

    /// <summary>
    /// Scale s ≥ 0 and min m ≥ 0 for x ≈ s·q − m with q in 0..nmax: quantize over a few stretched ranges, refit s
    /// and m by least squares to the chosen q, and keep the fit with the smallest squared error. m is at least
    /// −min(x, 0), so a block of positive values keeps zero exactly representable as ggml's format assumes.
    /// </summary>
    static (float Scale, float Min) FitScaleMin(ReadOnlySpan<float> x, int nmax)
    {
        float lo = 0, hi = float.MinValue;
        foreach (float v in x) { lo = MathF.Min(lo, v); hi = MathF.Max(hi, v); }
        if (hi <= lo) return (0, -lo);
        (float Scale, float Min) best = ((hi - lo) / nmax, -lo);
        double bestError = Error(x, best.Scale, best.Min, nmax);
        Span<int> q = stackalloc int[x.Length];
        for (int k = -4; k <= 12; k++)
        {
            float iscale = (nmax + 0.1f * k) / (hi - lo);
            double sq = 0, sqq = 0, sx = 0, sqx = 0;
            for (int i = 0; i < x.Length; i++)
            {
                q[i] = Math.Clamp((int)MathF.Round(iscale * (x[i] - lo)), 0, nmax);
                sq += q[i]; sqq += (double)q[i] * q[i]; sx += x[i]; sqx += (double)q[i] * x[i];
            }
            double det = x.Length * sqq - sq * sq;
            if (det <= 0) continue;
            double scale = (x.Length * sqx - sq * sx) / det, offset = (sqq * sx - sq * sqx) / det;
            if (offset > 0) { offset = 0; scale = sqq > 0 ? sqx / sqq : 0; }
            if (scale <= 0) continue;
            double error = Error(x, (float)scale, (float)-offset, nmax);
            if (error < bestError) (bestError, best) = (error, ((float)scale, (float)-offset));
        }
        return best;
    }

    static double Error(ReadOnlySpan<float> x, float scale, float min, int nmax)
    {
        double e = 0;
        foreach (float v in x)
        {
            int q = Math.Clamp((int)MathF.Round((v + min) / scale), 0, nmax);
            double r = scale * q - min - v;
            e += r * r;
        }
        return e;
    }

    public static void EncodeQ6_K(ReadOnlySpan<float> x, Span<byte> block)
    {
        Span<float> scales = stackalloc float[16];
        int largest = 0;
        for (int s = 0; s < 16; s++)
        {
            scales[s] = FitSymmetric(x.Slice(16 * s, 16));
            if (MathF.Abs(scales[s]) > MathF.Abs(scales[largest])) largest = s;
        }
        // int8 scales in units of d; the largest (signed) maps to −128 like the quants' extreme maps to −32.
        Half d = (Half)(scales[largest] / -128f);
        Span<sbyte> sc = stackalloc sbyte[16];
        for (int s = 0; s < 16; s++) sc[s] = (float)d == 0f ? (sbyte)0 : (sbyte)Math.Clamp((int)MathF.Round(scales[s] / (float)d), -128, 127);
        Span<byte> q = stackalloc byte[BlockSize];
        for (int s = 0; s < 16; s++)
        {
            float step = (float)d * sc[s];
            for (int i = 0; i < 16; i++)
                q[16 * s + i] = (byte)(32 + (step == 0f ? 0 : Math.Clamp((int)MathF.Round(x[16 * s + i] / step), -32, 31)));
        }
        // Per half of 128: 64 bytes of low nibbles (elements l and l + 64 share ql[l], l + 32 and l + 96 share
        // ql[l + 32]) and 32 bytes of 2-bit high parts (qh[l] holds those of l, l + 32, l + 64, l + 96).
        for (int h = 0; h < 2; h++)
        {
            Span<byte> ql = block.Slice(64 * h, 64), qh = block.Slice(128 + 32 * h, 32);
            ReadOnlySpan<byte> v = q.Slice(128 * h, 128);
            for (int l = 0; l < 32; l++)
            {
                ql[l] = (byte)((v[l] & 15) | (v[l + 64] & 15) << 4);
                ql[l + 32] = (byte)((v[l + 32] & 15) | (v[l + 96] & 15) << 4);
                qh[l] = (byte)(v[l] >> 4 | (v[l + 32] >> 4) << 2 | (v[l + 64] >> 4) << 4 | (v[l + 96] >> 4) << 6);
            }
        }
        for (int s = 0; s < 16; s++) block[192 + s] = (byte)sc[s];
        BinaryPrimitives.WriteHalfLittleEndian(block[208..], d);
    }

    /// <summary>Signed scale s for x ≈ s·q with q in −32..31: the extreme value maps near −32, a few stretches
    /// are tried, and each is refit by least squares; the smallest squared error wins.</summary>
    static float FitSymmetric(ReadOnlySpan<float> x)
    {
        float max = 0;
        foreach (float v in x) if (MathF.Abs(v) > MathF.Abs(max)) max = v;
        if (max == 0f) return 0;
        float best = max / -32f;
        double bestError = SymmetricError(x, best);
        for (int k = -6; k <= 6; k++)
        {
            float iscale = -(32 + 0.1f * k) / max;
            double sqx = 0, sqq = 0;
            foreach (float v in x)
            {
                int q = Math.Clamp((int)MathF.Round(iscale * v), -32, 31);
                sqx += (double)q * v; sqq += (double)q * q;
            }
            if (sqq == 0) continue;
            float scale = (float)(sqx / sqq);
            double error = SymmetricError(x, scale);
            if (error < bestError) (bestError, best) = (error, scale);
        }
        return best;
    }

    static double SymmetricError(ReadOnlySpan<float> x, float scale)
    {
        double e = 0;
        foreach (float v in x)
        {
            double r = scale * Math.Clamp((int)MathF.Round(v / scale), -32, 31) - v;
            e += r * r;
        }
        return e;
    }

    public static void DecodeQ4_K(ReadOnlySpan<byte> block, Span<float> y) => DecodeScaleMin(block, y, bits: 4);

    public static void DecodeQ5_K(ReadOnlySpan<byte> block, Span<float> y) => DecodeScaleMin(block, y, bits: 5);

    static void DecodeScaleMin(ReadOnlySpan<byte> block, Span<float> y, int bits)
    {
        float d = (float)BinaryPrimitives.ReadHalfLittleEndian(block), dmin = (float)BinaryPrimitives.ReadHalfLittleEndian(block[2..]);
        ReadOnlySpan<byte> packed = block.Slice(4, 12), nibbles = block[(bits == 5 ? 48 : 16)..];
        ReadOnlySpan<byte> qh = bits == 5 ? block.Slice(16, 32) : default;
        for (int s = 0; s < 8; s++)
        {
            var (sc, m) = ScaleMin(packed, s);
            int c = s / 2;
            for (int l = 0; l < 32; l++)
            {
                byte b = nibbles[32 * c + l];
                int q = s % 2 == 0 ? b & 15 : b >> 4;
                if (bits == 5) q |= (qh[l] >> s & 1) << 4;
                y[32 * s + l] = d * sc * q - dmin * m;
            }
        }
    }

    public static void DecodeQ6_K(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = (float)BinaryPrimitives.ReadHalfLittleEndian(block[208..]);
        for (int h = 0; h < 2; h++)
        {
            ReadOnlySpan<byte> ql = block.Slice(64 * h, 64), qh = block.Slice(128 + 32 * h, 32);
            for (int l = 0; l < 32; l++)
            {
                for (int k = 0; k < 4; k++)
                {
                    // k = 0, 1: low nibbles of ql[l], ql[l + 32]; k = 2, 3: their high nibbles; bits 2k of qh[l] on top.
                    byte low = ql[l + 32 * (k % 2)];
                    int q = (k < 2 ? low & 15 : low >> 4) | (qh[l] >> (2 * k) & 3) << 4;
                    int e = 128 * h + l + 32 * k;
                    y[e] = d * (sbyte)block[192 + e / 16] * (q - 32);
                }
            }
        }
    }
}
