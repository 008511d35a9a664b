namespace EvoMerge.IO;

/// <summary>
/// The value of every byte of the two 8-bit float formats of safetensors (as PyTorch's float8_e4m3fn and
/// float8_e5m2 define them), built once from the bit layouts.
/// </summary>
static class Float8Tables
{
    /// <summary>E4M3 "fn": bias 7, no infinities, S.1111.111 is NaN; largest finite value 448.</summary>
    public static readonly float[] E4M3 = Build(exponentBits: 4, mantissaBits: 3, bias: 7, isSpecial: b => (b & 0x7F) == 0x7F ? float.NaN : null);

    /// <summary>E5M2: bias 15, IEEE-like: exponent 11111 is infinity (mantissa 0) or NaN.</summary>
    public static readonly float[] E5M2 = Build(exponentBits: 5, mantissaBits: 2, bias: 15,
        isSpecial: b => (b & 0x7C) == 0x7C ? ((b & 0x03) == 0 ? ((b & 0x80) != 0 ? float.NegativeInfinity : float.PositiveInfinity) : float.NaN) : null);

    static float[] Build(int exponentBits, int mantissaBits, int bias, Func<int, float?> isSpecial)
    {
        var table = new float[256];
        for (int b = 0; b < 256; b++)
        {
            if (isSpecial(b) is float special) { table[b] = special; continue; }
            int sign = (b & 0x80) != 0 ? -1 : 1;
            int exponent = (b >> mantissaBits) & ((1 << exponentBits) - 1);
            int mantissa = b & ((1 << mantissaBits) - 1);
            double magnitude = exponent == 0
                ? mantissa / (double)(1 << mantissaBits) * Math.Pow(2, 1 - bias)               // subnormal
                : (1 + mantissa / (double)(1 << mantissaBits)) * Math.Pow(2, exponent - bias);
            table[b] = (float)(sign * magnitude);
        }
        return table;
    }
}
