using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace EvoMerge.IO.Gguf;

/// <summary>
/// float32 → the ggml tensor encodings and back. f16 and bf16 round to nearest even (bf16 through
/// <see cref="FloatConversion"/>) and Q8_0 is ggml's <c>quantize_row_q8_0_ref</c>, bit for bit as llama.cpp's
/// converter; the 4- and 5-bit block types and the k-quants are in <see cref="LegacyQuants"/> and
/// <see cref="KQuants"/>. Decoding is what llama.cpp reads back from the same bytes.
/// </summary>
public static class GgufEncoding
{
    /// <summary>Q8_0 block: one f16 scale and 32 int8 quants.</summary>
    public const int Q8BlockSize = 32;
    const int Q8BlockBytes = 2 + Q8BlockSize;

    /// <summary>Elements per block and bytes per block of each type (ggml's <c>blck_size</c> and <c>type_size</c>).</summary>
    public static (int Elements, int Bytes) Block(GgufTensorType type) => type switch
    {
        GgufTensorType.F32 => (1, 4),
        GgufTensorType.F16 or GgufTensorType.BF16 => (1, 2),
        GgufTensorType.Q8_0 => (Q8BlockSize, Q8BlockBytes),
        GgufTensorType.Q4_0 => (LegacyQuants.BlockSize, LegacyQuants.Q4_0Bytes),
        GgufTensorType.Q5_0 => (LegacyQuants.BlockSize, LegacyQuants.Q5_0Bytes),
        GgufTensorType.Q5_1 => (LegacyQuants.BlockSize, LegacyQuants.Q5_1Bytes),
        GgufTensorType.Q4_K => (KQuants.BlockSize, KQuants.Q4_KBytes),
        GgufTensorType.Q5_K => (KQuants.BlockSize, KQuants.Q5_KBytes),
        GgufTensorType.Q6_K => (KQuants.BlockSize, KQuants.Q6_KBytes),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>Whether the type stores blocks of quants rather than one float per element.</summary>
    public static bool IsQuantized(GgufTensorType type) => Block(type).Elements > 1;

    /// <summary>Whether a row of <paramref name="rowLength"/> elements can be stored as <paramref name="type"/>: blocks never straddle rows.</summary>
    public static bool Supports(GgufTensorType type, long rowLength) => rowLength % Block(type).Elements == 0;

    public static long ByteCount(GgufTensorType type, long elements)
    {
        var (n, bytes) = Block(type);
        return elements / n * bytes;
    }

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
                RequireWholeBlocks(type, source.Length);
                var (n, bytes) = Block(type);
                for (int b = 0; b < source.Length / n; b++)
                    EncodeBlock(type, source.Slice(b * n, n), destination.Slice(b * bytes, bytes));
                break;
        }
    }

    static void EncodeBlock(GgufTensorType type, ReadOnlySpan<float> x, Span<byte> block)
    {
        switch (type)
        {
            case GgufTensorType.Q4_0: LegacyQuants.EncodeQ4_0(x, block); break;
            case GgufTensorType.Q5_0: LegacyQuants.EncodeQ5_0(x, block); break;
            case GgufTensorType.Q5_1: LegacyQuants.EncodeQ5_1(x, block); break;
            case GgufTensorType.Q4_K: KQuants.EncodeQ4_K(x, block); break;
            case GgufTensorType.Q5_K: KQuants.EncodeQ5_K(x, block); break;
            case GgufTensorType.Q6_K: KQuants.EncodeQ6_K(x, block); break;
            default: throw new ArgumentOutOfRangeException(nameof(type));
        }
    }

    static void RequireWholeBlocks(GgufTensorType type, int elements)
    {
        if (elements % Block(type).Elements != 0)
            throw new ArgumentException($"{type} needs a multiple of {Block(type).Elements} values, got {elements}");
    }

    /// <summary>The float32 values llama.cpp reads from <paramref name="source"/> (<see cref="ByteCount"/> bytes of
    /// <paramref name="destination"/>.Length elements): EvoMerge's own dequantisation, for checks and round trips.</summary>
    public static void Decode(GgufTensorType type, ReadOnlySpan<byte> source, Span<float> destination)
    {
        if (source.Length != ByteCount(type, destination.Length) || destination.Length % Block(type).Elements != 0)
            throw new ArgumentException($"{type}: {destination.Length} values need {ByteCount(type, destination.Length)} bytes, got {source.Length}");
        var (n, bytes) = Block(type);
        for (int b = 0; b < destination.Length / n; b++)
        {
            ReadOnlySpan<byte> block = source.Slice(b * bytes, bytes);
            Span<float> y = destination.Slice(b * n, n);
            switch (type)
            {
                case GgufTensorType.F32: y[0] = BinaryPrimitives.ReadSingleLittleEndian(block); break;
                case GgufTensorType.F16: y[0] = (float)BinaryPrimitives.ReadHalfLittleEndian(block); break;
                case GgufTensorType.BF16: y[0] = BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(block) << 16); break;
                case GgufTensorType.Q8_0:
                    float d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
                    for (int j = 0; j < Q8BlockSize; j++) y[j] = (sbyte)block[2 + j] * d;
                    break;
                case GgufTensorType.Q4_0: LegacyQuants.DecodeQ4_0(block, y); break;
                case GgufTensorType.Q5_0: LegacyQuants.DecodeQ5_0(block, y); break;
                case GgufTensorType.Q5_1: LegacyQuants.DecodeQ5_1(block, y); break;
                case GgufTensorType.Q4_K: KQuants.DecodeQ4_K(block, y); break;
                case GgufTensorType.Q5_K: KQuants.DecodeQ5_K(block, y); break;
                case GgufTensorType.Q6_K: KQuants.DecodeQ6_K(block, y); break;
                default: throw new ArgumentOutOfRangeException(nameof(type));
            }
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
