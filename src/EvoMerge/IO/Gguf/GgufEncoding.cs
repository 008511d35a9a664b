using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace EvoMerge.IO.Gguf;

/// <summary>
/// float32 → the ggml tensor encodings, bit for bit as llama.cpp's own converters produce them:
/// f16 and bf16 round to nearest even (bf16 through <see cref="FloatConversion"/>); Q8_0 is ggml's
/// <c>quantize_row_q8_0_ref</c>.
/// </summary>
public static class GgufEncoding
{
    /// <summary>Q8_0 block: one f16 scale and 32 int8 quants.</summary>
    public const int Q8BlockSize = 32;
    const int Q8BlockBytes = 2 + Q8BlockSize;

    /// <summary>Whether a row of <paramref name="rowLength"/> elements can be stored as <paramref name="type"/>.</summary>
    public static bool Supports(GgufTensorType type, long rowLength) => type != GgufTensorType.Q8_0 || rowLength % Q8BlockSize == 0;

    public static long ByteCount(GgufTensorType type, long elements) => type switch
    {
        GgufTensorType.F32 => elements * 4,
        GgufTensorType.F16 or GgufTensorType.BF16 => elements * 2,
        GgufTensorType.Q8_0 => elements / Q8BlockSize * Q8BlockBytes,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>Encodes <paramref name="source"/> into <paramref name="destination"/> (exactly <see cref="ByteCount"/> bytes).</summary>
    public static void Encode(GgufTensorType type, ReadOnlySpan<float> source, Span<byte> destination)
    {
        if (destination.Length != ByteCount(type, source.Length))
            throw new ArgumentException($"{type}: {source.Length} values need {ByteCount(type, source.Length)} bytes, got {destination.Length}");
        switch (type)
        {
            case GgufTensorType.F32:
                // GGUF is little-endian, as is every platform .NET runs on here.
                MemoryMarshal.AsBytes(source).CopyTo(destination);
                break;
            case GgufTensorType.F16:
                TensorPrimitives.ConvertToHalf(source, MemoryMarshal.Cast<byte, Half>(destination));
                break;
            case GgufTensorType.BF16:
                FloatConversion.Float32ToBFloat16(source, MemoryMarshal.Cast<byte, ushort>(destination));
                break;
            case GgufTensorType.Q8_0:
                ToQ8_0(source, destination);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type));
        }
    }

    /// <summary>
    /// Q8_0 per block of 32: scale d = max|x| / 127 stored as f16; quants round(x / d) with halves away from zero
    /// (C's <c>roundf</c>), computed with the float32 reciprocal of the unrounded d as llama.cpp does.
    /// </summary>
    public static void ToQ8_0(ReadOnlySpan<float> source, Span<byte> destination)
    {
        if (source.Length % Q8BlockSize != 0)
            throw new ArgumentException($"Q8_0 needs a multiple of {Q8BlockSize} values, got {source.Length}");
        for (int b = 0; b < source.Length / Q8BlockSize; b++)
        {
            ReadOnlySpan<float> x = source.Slice(b * Q8BlockSize, Q8BlockSize);
            Span<byte> block = destination.Slice(b * Q8BlockBytes, Q8BlockBytes);
            float amax = TensorPrimitives.MaxMagnitude(x);
            amax = MathF.Abs(amax);
            float d = amax / 127f;
            float id = d != 0f ? 1f / d : 0f;
            BinaryPrimitives.WriteHalfLittleEndian(block, (Half)d);
            for (int j = 0; j < Q8BlockSize; j++)
                block[2 + j] = (byte)(sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero);
        }
    }
}
