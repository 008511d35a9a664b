using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EvoMerge.IO;

/// <summary>
/// Converts raw little-endian tensor bytes of a float dtype to float32 and back, vectorised and allocation-free.
/// TensorPrimitives covers f16; bf16 (not in TensorPrimitives) is a 16-bit shift up, and on the way down
/// rounds to nearest, ties to even, the same bits as PyTorch's <c>.to(torch.bfloat16)</c> for every number (NaNs stay NaN).
/// The 8-bit floats decode through a 256-entry table; encoding them is not supported.
/// </summary>
public static class FloatConversion
{
    /// <summary>Decodes <paramref name="source"/> (elements of <paramref name="dtype"/>) into <paramref name="destination"/>, which must hold exactly as many elements.</summary>
    public static void ToFloat32(ReadOnlySpan<byte> source, DType dtype, Span<float> destination)
    {
        CheckLengths(source.Length, dtype, destination.Length);
        switch (dtype)
        {
            case DType.F32: MemoryMarshal.Cast<byte, float>(source).CopyTo(destination); break;
            case DType.BF16: BFloat16ToFloat32(MemoryMarshal.Cast<byte, ushort>(source), destination); break;
            case DType.F16: TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(source), destination); break;
            case DType.F64: TensorPrimitives.ConvertTruncating(MemoryMarshal.Cast<byte, double>(source), destination); break;
            case DType.F8_E4M3: Decode(source, Float8Tables.E4M3, destination); break;
            case DType.F8_E5M2: Decode(source, Float8Tables.E5M2, destination); break;
            default: throw new EvoMergeException($"cannot convert {dtype} to float32: only float dtypes convert");
        }
    }

    /// <summary>Encodes float32 <paramref name="source"/> as <paramref name="dtype"/> into <paramref name="destination"/> (exactly the needed bytes).</summary>
    public static void FromFloat32(ReadOnlySpan<float> source, DType dtype, Span<byte> destination)
    {
        CheckLengths(destination.Length, dtype, source.Length);
        switch (dtype)
        {
            case DType.F32: source.CopyTo(MemoryMarshal.Cast<byte, float>(destination)); break;
            case DType.BF16: Float32ToBFloat16(source, MemoryMarshal.Cast<byte, ushort>(destination)); break;
            case DType.F16: TensorPrimitives.ConvertToHalf(source, MemoryMarshal.Cast<byte, Half>(destination)); break;
            case DType.F64: TensorPrimitives.ConvertTruncating(source, MemoryMarshal.Cast<byte, double>(destination)); break;
            default: throw new EvoMergeException($"cannot write float32 values as {dtype}: supported targets are F32, F16, BF16 and F64");
        }
    }

    static void CheckLengths(int byteLength, DType dtype, int floatCount)
    {
        if ((long)floatCount * dtype.ElementSize() != byteLength)
            throw new ArgumentException($"{byteLength} bytes of {dtype} do not hold {floatCount} elements");
    }

    /// <summary>bf16 is the upper half of a float32: widen and shift.</summary>
    public static void BFloat16ToFloat32(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        var dst = MemoryMarshal.Cast<float, uint>(destination);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int step = Vector<ushort>.Count;
            ref ushort src = ref MemoryMarshal.GetReference(source);
            ref uint dstRef = ref MemoryMarshal.GetReference(dst);
            for (; i <= source.Length - step; i += step)
            {
                var v = Vector.LoadUnsafe(ref src, (nuint)i);
                Vector.Widen(v, out Vector<uint> low, out Vector<uint> high);
                Vector.StoreUnsafe(low << 16, ref dstRef, (nuint)i);
                Vector.StoreUnsafe(high << 16, ref dstRef, (nuint)(i + Vector<uint>.Count));
            }
        }
        for (; i < source.Length; i++) dst[i] = (uint)source[i] << 16;
    }

    /// <summary>Every NaN becomes this quiet NaN (PyTorch's scalar path does the same); rounding its bits could make it infinity.</summary>
    const ushort CanonicalNaN = 0x7FC0;

    /// <summary>Rounds float32 to bf16: nearest, ties to even; any NaN becomes the canonical quiet NaN (never infinity).</summary>
    public static void Float32ToBFloat16(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int step = Vector<ushort>.Count;
            ref float src = ref MemoryMarshal.GetReference(source);
            ref ushort dstRef = ref MemoryMarshal.GetReference(destination);
            for (; i <= source.Length - step; i += step)
            {
                var low = RoundToBFloat16(Vector.LoadUnsafe(ref src, (nuint)i));
                var high = RoundToBFloat16(Vector.LoadUnsafe(ref src, (nuint)(i + Vector<float>.Count)));
                Vector.StoreUnsafe(Vector.Narrow(low, high), ref dstRef, (nuint)i);
            }
        }
        for (; i < source.Length; i++) destination[i] = RoundToBFloat16(source[i]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector<uint> RoundToBFloat16(Vector<float> x)
    {
        var bits = Vector.AsVectorUInt32(x);
        var rounded = (bits + new Vector<uint>(0x7FFF) + ((bits >> 16) & Vector<uint>.One)) >> 16;
        var isNumber = Vector.AsVectorUInt32(Vector.Equals(x, x));
        return Vector.ConditionalSelect(isNumber, rounded, new Vector<uint>(CanonicalNaN));
    }

    public static ushort RoundToBFloat16(float x)
    {
        uint bits = BitConverter.SingleToUInt32Bits(x);
        if (float.IsNaN(x)) return CanonicalNaN;
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }

    static void Decode(ReadOnlySpan<byte> source, float[] table, Span<float> destination)
    {
        for (int i = 0; i < source.Length; i++) destination[i] = table[source[i]];
    }
}
