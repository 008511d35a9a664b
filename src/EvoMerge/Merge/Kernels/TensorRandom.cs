using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EvoMerge.Merge.Kernels;

/// <summary>
/// Counter-based randomness for DARE/DELLA masks: element <c>i</c> of model <c>m</c> in tensor <c>name</c> draws
/// <c>Uniform(hash(seed, name, m, i))</c>. Because each draw depends only on those four values, the output is
/// bit-identical whatever the thread count, the order tensors are processed in, how a tensor is split into blocks, or
/// the SIMD width (stream version 1, docs/merge.md: changing any constant here changes every DARE merge).
/// </summary>
public static class TensorRandom
{
    const ulong Golden = 0x9E3779B97F4A7C15UL, Mix1 = 0xBF58476D1CE4E5B9UL, Mix2 = 0x94D049BB133111EBUL;
    const float Unit = 1.0f / (1 << 24);

    /// <summary>The random key of one tensor: the seed mixed with a 64-bit FNV-1a hash of its name.</summary>
    public static ulong KeyFor(ulong seed, string tensorName)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in tensorName) { h ^= c; h *= 1099511628211UL; }
        return Mix(seed ^ Mix(h));
    }

    /// <summary>The key of model <paramref name="model"/>'s stream within a tensor.</summary>
    public static ulong StreamKey(ulong tensorKey, int model) => Mix(tensorKey + Golden * (ulong)(model + 1));

    /// <summary>Uniform in [0, 1) with 24 random bits (exactly representable as float).</summary>
    public static float Uniform(ulong streamKey, long index) => (Mix(streamKey + Golden * (ulong)index) >> 40) * Unit;

    /// <summary>
    /// DARE's mask in place: entry i survives (multiplied by <paramref name="scale"/>) when
    /// <c>Uniform(streamKey, elementOffset + i) &lt; p</c>, else becomes 0. The hash is integer arithmetic and the
    /// uniform an exact float, so every tier gives the scalar definition's bits.
    /// </summary>
    public static void KeepWithProbability(Span<float> values, float p, float scale, ulong streamKey, long elementOffset) =>
        KeepWithProbability(values, p, scale, streamKey, elementOffset, VectorTiers.Best);

    /// <summary>The same at a chosen tier (tests run each one against <see cref="VectorTier.Scalar"/>).</summary>
    public static void KeepWithProbability(Span<float> values, float p, float scale, ulong streamKey, long elementOffset, VectorTier tier)
    {
        int i = tier switch
        {
            VectorTier.Vector512 => Keep512(values, p, scale, streamKey, elementOffset),
            VectorTier.Vector256 => Keep256(values, p, scale, streamKey, elementOffset),
            VectorTier.Vector128 => Keep128(values, p, scale, streamKey, elementOffset),
            _ => 0,
        };
        for (; i < values.Length; i++)
            values[i] = Uniform(streamKey, elementOffset + i) < p ? values[i] * scale : 0;
    }

    // Each tier hashes two vectors of 64-bit counters key + Golden·index, narrows the 24-bit draws into one vector of
    // floats and masks a vector of values; it returns how many entries it did (the rest is the scalar tail). The
    // counters advance by adding Golden·width (wrapping, as the scalar product wraps) instead of multiplying anew.

    static int Keep512(Span<float> values, float p, float scale, ulong streamKey, long elementOffset)
    {
        var counter = Vector512.Create(streamKey) + (Vector512.Create((ulong)elementOffset) + Vector512.Create(0UL, 1, 2, 3, 4, 5, 6, 7)) * Golden;
        var half = Vector512.Create(unchecked(8UL * Golden));
        var step = Vector512.Create(unchecked(16UL * Golden));
        ref float start = ref MemoryMarshal.GetReference(values);
        int i = 0;
        for (; i <= values.Length - 16; i += 16, counter += step)
        {
            var low = Mix(counter) >> 40;
            var high = Mix(counter + half) >> 40;
            var uniform = Vector512.ConvertToSingle(Vector512.Narrow(low, high).AsInt32()) * Unit;
            var v = Vector512.LoadUnsafe(ref start, (nuint)i);
            Vector512.ConditionalSelect(Vector512.LessThan(uniform, Vector512.Create(p)), v * scale, Vector512<float>.Zero).StoreUnsafe(ref start, (nuint)i);
        }
        return i;
    }

    static int Keep256(Span<float> values, float p, float scale, ulong streamKey, long elementOffset)
    {
        var counter = Vector256.Create(streamKey) + (Vector256.Create((ulong)elementOffset) + Vector256.Create(0UL, 1, 2, 3)) * Golden;
        var half = Vector256.Create(unchecked(4UL * Golden));
        var step = Vector256.Create(unchecked(8UL * Golden));
        ref float start = ref MemoryMarshal.GetReference(values);
        int i = 0;
        for (; i <= values.Length - 8; i += 8, counter += step)
        {
            var low = Mix(counter) >> 40;
            var high = Mix(counter + half) >> 40;
            var uniform = Vector256.ConvertToSingle(Vector256.Narrow(low, high).AsInt32()) * Unit;
            var v = Vector256.LoadUnsafe(ref start, (nuint)i);
            Vector256.ConditionalSelect(Vector256.LessThan(uniform, Vector256.Create(p)), v * scale, Vector256<float>.Zero).StoreUnsafe(ref start, (nuint)i);
        }
        return i;
    }

    static int Keep128(Span<float> values, float p, float scale, ulong streamKey, long elementOffset)
    {
        var counter = Vector128.Create(streamKey) + (Vector128.Create((ulong)elementOffset) + Vector128.Create(0UL, 1)) * Golden;
        var half = Vector128.Create(unchecked(2UL * Golden));
        var step = Vector128.Create(unchecked(4UL * Golden));
        ref float start = ref MemoryMarshal.GetReference(values);
        int i = 0;
        for (; i <= values.Length - 4; i += 4, counter += step)
        {
            var low = Mix(counter) >> 40;
            var high = Mix(counter + half) >> 40;
            var uniform = Vector128.ConvertToSingle(Vector128.Narrow(low, high).AsInt32()) * Unit;
            var v = Vector128.LoadUnsafe(ref start, (nuint)i);
            Vector128.ConditionalSelect(Vector128.LessThan(uniform, Vector128.Create(p)), v * scale, Vector128<float>.Zero).StoreUnsafe(ref start, (nuint)i);
        }
        return i;
    }

    /// <summary>SplitMix64's finaliser: a bijective avalanche of 64 bits.</summary>
    static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * Mix1;
        z = (z ^ (z >> 27)) * Mix2;
        return z ^ (z >> 31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<ulong> Mix(Vector512<ulong> z)
    {
        z = (z ^ (z >> 30)) * Mix1;
        z = (z ^ (z >> 27)) * Mix2;
        return z ^ (z >> 31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<ulong> Mix(Vector256<ulong> z)
    {
        z = (z ^ (z >> 30)) * Mix1;
        z = (z ^ (z >> 27)) * Mix2;
        return z ^ (z >> 31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<ulong> Mix(Vector128<ulong> z)
    {
        z = (z ^ (z >> 30)) * Mix1;
        z = (z ^ (z >> 27)) * Mix2;
        return z ^ (z >> 31);
    }
}
