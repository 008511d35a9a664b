using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EvoMerge.Merge.Kernels;

/// <summary>
/// Σ w[i]·x[i] in float32 with one summation order on every CPU, for the batch-1 mat-vec of the Torch runtime
/// (each weight row against the activations; bf16 weights are the upper half of a float32, widened by a 16-bit shift).
/// The order: 16 lanes, lane j accumulating w[i]·x[i] for i ≡ j (mod 16) with fused multiply-adds over the whole
/// 16-entry groups; lanes j and j + 8 added; those eight summed pairwise, ((0+1)+(2+3))+((4+5)+(6+7)); then the
/// remaining entries added one by one. The 512-bit tier holds the 16 lanes in one register, the 256-bit tier in two
/// and the 128-bit tier in four, so every tier gives the scalar definition's bits (and the bf16 result is the
/// one the 256-bit loop gave before the other tiers existed).
/// </summary>
public static class DotProduct
{
    const int Lanes = 16;

    public static float BFloat16(ReadOnlySpan<ushort> w, ReadOnlySpan<float> x) => BFloat16(w, x, VectorTiers.Best);

    public static float Float32(ReadOnlySpan<float> w, ReadOnlySpan<float> x) => Float32(w, x, VectorTiers.Best);

    /// <summary>The bf16 product at a chosen tier (tests run each one against <see cref="VectorTier.Scalar"/>).</summary>
    public static float BFloat16(ReadOnlySpan<ushort> w, ReadOnlySpan<float> x, VectorTier tier)
    {
        CheckLengths(w.Length, x.Length);
        int groups = w.Length / Lanes * Lanes;
        float sum = tier switch
        {
            VectorTier.Vector512 => BFloat16Lanes512(w, x, groups),
            VectorTier.Vector256 => BFloat16Lanes256(w, x, groups),
            VectorTier.Vector128 => BFloat16Lanes128(w, x, groups),
            _ => ScalarLanes(w, x, groups),
        };
        for (int i = groups; i < w.Length; i++) sum += Widen(w[i]) * x[i];
        return sum;
    }

    /// <summary>The float32 product at a chosen tier.</summary>
    public static float Float32(ReadOnlySpan<float> w, ReadOnlySpan<float> x, VectorTier tier)
    {
        CheckLengths(w.Length, x.Length);
        int groups = w.Length / Lanes * Lanes;
        float sum = tier switch
        {
            VectorTier.Vector512 => Float32Lanes512(w, x, groups),
            VectorTier.Vector256 => Float32Lanes256(w, x, groups),
            VectorTier.Vector128 => Float32Lanes128(w, x, groups),
            _ => ScalarLanes(w, x, groups),
        };
        for (int i = groups; i < w.Length; i++) sum += w[i] * x[i];
        return sum;
    }

    static void CheckLengths(int w, int x)
    {
        if (w != x) throw new ArgumentException($"dot product of {w} weights with {x} inputs");
    }

    static float Widen(ushort bfloat16) => BitConverter.Int32BitsToSingle(bfloat16 << 16);

    /// <summary>The definition: 16 fused accumulators, folded as the type's summary says.</summary>
    static float ScalarLanes(ReadOnlySpan<float> w, ReadOnlySpan<float> x, int groups)
    {
        Span<float> lane = stackalloc float[Lanes];
        lane.Clear();
        for (int i = 0; i < groups; i += Lanes)
            for (int j = 0; j < Lanes; j++) lane[j] = MathF.FusedMultiplyAdd(w[i + j], x[i + j], lane[j]);
        return FoldLanes(lane);
    }

    static float ScalarLanes(ReadOnlySpan<ushort> w, ReadOnlySpan<float> x, int groups)
    {
        Span<float> lane = stackalloc float[Lanes];
        lane.Clear();
        for (int i = 0; i < groups; i += Lanes)
            for (int j = 0; j < Lanes; j++) lane[j] = MathF.FusedMultiplyAdd(Widen(w[i + j]), x[i + j], lane[j]);
        return FoldLanes(lane);
    }

    static float FoldLanes(ReadOnlySpan<float> lane)
    {
        Span<float> pairs = stackalloc float[8];
        for (int j = 0; j < 8; j++) pairs[j] = lane[j] + lane[j + 8];
        return Fold(pairs);
    }

    static float Fold(ReadOnlySpan<float> p) => ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));

    static float Fold(Vector256<float> pairs)
    {
        Span<float> p = stackalloc float[8];
        pairs.CopyTo(p);
        return Fold(p);
    }

    static float Fold(Vector128<float> low, Vector128<float> high) => Fold(Vector256.Create(low, high));

    static float Float32Lanes512(ReadOnlySpan<float> w, ReadOnlySpan<float> x, int groups)
    {
        ref float w0 = ref MemoryMarshal.GetReference(w), x0 = ref MemoryMarshal.GetReference(x);
        var acc = Vector512<float>.Zero;
        for (int i = 0; i < groups; i += 16)
            acc = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref w0, (nuint)i), Vector512.LoadUnsafe(ref x0, (nuint)i), acc);
        return Fold(acc.GetLower() + acc.GetUpper());
    }

    static float Float32Lanes256(ReadOnlySpan<float> w, ReadOnlySpan<float> x, int groups)
    {
        ref float w0 = ref MemoryMarshal.GetReference(w), x0 = ref MemoryMarshal.GetReference(x);
        Vector256<float> acc0 = default, acc1 = default;
        for (int i = 0; i < groups; i += 16)
        {
            acc0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref w0, (nuint)i), Vector256.LoadUnsafe(ref x0, (nuint)i), acc0);
            acc1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref w0, (nuint)(i + 8)), Vector256.LoadUnsafe(ref x0, (nuint)(i + 8)), acc1);
        }
        return Fold(acc0 + acc1);
    }

    static float Float32Lanes128(ReadOnlySpan<float> w, ReadOnlySpan<float> x, int groups)
    {
        ref float w0 = ref MemoryMarshal.GetReference(w), x0 = ref MemoryMarshal.GetReference(x);
        Vector128<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        for (int i = 0; i < groups; i += 16)
        {
            acc0 = Vector128.FusedMultiplyAdd(Vector128.LoadUnsafe(ref w0, (nuint)i), Vector128.LoadUnsafe(ref x0, (nuint)i), acc0);
            acc1 = Vector128.FusedMultiplyAdd(Vector128.LoadUnsafe(ref w0, (nuint)(i + 4)), Vector128.LoadUnsafe(ref x0, (nuint)(i + 4)), acc1);
            acc2 = Vector128.FusedMultiplyAdd(Vector128.LoadUnsafe(ref w0, (nuint)(i + 8)), Vector128.LoadUnsafe(ref x0, (nuint)(i + 8)), acc2);
            acc3 = Vector128.FusedMultiplyAdd(Vector128.LoadUnsafe(ref w0, (nuint)(i + 12)), Vector128.LoadUnsafe(ref x0, (nuint)(i + 12)), acc3);
        }
        return Fold(acc0 + acc2, acc1 + acc3);
    }

    static float BFloat16Lanes512(ReadOnlySpan<ushort> w, ReadOnlySpan<float> x, int groups)
    {
        ref ushort w0 = ref MemoryMarshal.GetReference(w);
        ref float x0 = ref MemoryMarshal.GetReference(x);
        var acc = Vector512<float>.Zero;
        int i = 0;
        for (; i + 32 <= groups; i += 32)
        {
            var (first, second) = Vector512.Widen(Vector512.LoadUnsafe(ref w0, (nuint)i));
            acc = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(first, 16).AsSingle(), Vector512.LoadUnsafe(ref x0, (nuint)i), acc);
            acc = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(second, 16).AsSingle(), Vector512.LoadUnsafe(ref x0, (nuint)(i + 16)), acc);
        }
        if (i < groups)
        {
            var (low, high) = Vector256.Widen(Vector256.LoadUnsafe(ref w0, (nuint)i));
            acc = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(Vector512.Create(low, high), 16).AsSingle(), Vector512.LoadUnsafe(ref x0, (nuint)i), acc);
        }
        return Fold(acc.GetLower() + acc.GetUpper());
    }

    static float BFloat16Lanes256(ReadOnlySpan<ushort> w, ReadOnlySpan<float> x, int groups)
    {
        ref ushort w0 = ref MemoryMarshal.GetReference(w);
        ref float x0 = ref MemoryMarshal.GetReference(x);
        Vector256<float> acc0 = default, acc1 = default;
        for (int i = 0; i < groups; i += 16)
        {
            var (low, high) = Vector256.Widen(Vector256.LoadUnsafe(ref w0, (nuint)i));
            acc0 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(low, 16).AsSingle(), Vector256.LoadUnsafe(ref x0, (nuint)i), acc0);
            acc1 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(high, 16).AsSingle(), Vector256.LoadUnsafe(ref x0, (nuint)(i + 8)), acc1);
        }
        return Fold(acc0 + acc1);
    }

    static float BFloat16Lanes128(ReadOnlySpan<ushort> w, ReadOnlySpan<float> x, int groups)
    {
        ref ushort w0 = ref MemoryMarshal.GetReference(w);
        ref float x0 = ref MemoryMarshal.GetReference(x);
        Vector128<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        for (int i = 0; i < groups; i += 16)
        {
            var (a, b) = Vector128.Widen(Vector128.LoadUnsafe(ref w0, (nuint)i));
            var (c, d) = Vector128.Widen(Vector128.LoadUnsafe(ref w0, (nuint)(i + 8)));
            acc0 = Vector128.FusedMultiplyAdd(Vector128.ShiftLeft(a, 16).AsSingle(), Vector128.LoadUnsafe(ref x0, (nuint)i), acc0);
            acc1 = Vector128.FusedMultiplyAdd(Vector128.ShiftLeft(b, 16).AsSingle(), Vector128.LoadUnsafe(ref x0, (nuint)(i + 4)), acc1);
            acc2 = Vector128.FusedMultiplyAdd(Vector128.ShiftLeft(c, 16).AsSingle(), Vector128.LoadUnsafe(ref x0, (nuint)(i + 8)), acc2);
            acc3 = Vector128.FusedMultiplyAdd(Vector128.ShiftLeft(d, 16).AsSingle(), Vector128.LoadUnsafe(ref x0, (nuint)(i + 12)), acc3);
        }
        return Fold(acc0 + acc2, acc1 + acc3);
    }
}
