using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EvoMerge.Merge.Kernels;

/// <summary>
/// Counter-based randomness for DARE/DELLA masks: element <c>i</c> of model <c>m</c> in tensor <c>name</c> draws
/// <c>Uniform(hash(seed, name, m, i))</c>. Because each draw depends only on those four values, the output is
/// bit-identical whatever the thread count, the order tensors are processed in, how a tensor is split into blocks, or
/// the SIMD width. Stream version 2 (docs/merge.md: changing any constant here changes every DARE merge): one 64-bit
/// SplitMix64 hash serves two neighbouring entries, entry <c>i</c> taking the low 32 bits of
/// <c>Mix(key + Golden · ⌊i/2⌋)</c> when <c>i</c> is even and the high 32 bits when it is odd, as a uniform
/// <c>bits / 2³²</c> (version 1 hashed every entry and kept 24 bits: twice the multiplies, and a narrowing and a
/// float conversion per vector).
/// </summary>
public static class TensorRandom
{
    /// <summary>The documented stream version (docs/merge.md); bumped whenever any draw changes.</summary>
    public const int StreamVersion = 2;

    const ulong Golden = 0x9E3779B97F4A7C15UL, Mix1 = 0xBF58476D1CE4E5B9UL, Mix2 = 0x94D049BB133111EBUL;
    const double Unit = 1.0 / 4294967296.0;

    /// <summary>The random key of one tensor: the seed mixed with a 64-bit FNV-1a hash of its name.</summary>
    public static ulong KeyFor(ulong seed, string tensorName)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in tensorName) { h ^= c; h *= 1099511628211UL; }
        return Mix(seed ^ Mix(h));
    }

    /// <summary>The key of model <paramref name="model"/>'s stream within a tensor.</summary>
    public static ulong StreamKey(ulong tensorKey, int model) => Mix(tensorKey + Golden * (ulong)(model + 1));

    /// <summary>Uniform in [0, 1) with 32 random bits (exactly representable as double).</summary>
    public static double Uniform(ulong streamKey, long index) => Bits(streamKey, index) * Unit;

    /// <summary>The 32 random bits of entry <paramref name="index"/>: one half of the hash it shares with its even/odd neighbour.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static uint Bits(ulong streamKey, long index) => (uint)(Mix(streamKey + Golden * (ulong)(index >> 1)) >> (int)((index & 1) << 5));

    /// <summary>
    /// DARE's mask in place: entry i survives (multiplied by <paramref name="scale"/>) when
    /// <c>Uniform(streamKey, elementOffset + i) &lt; p</c>, else becomes 0. The comparison is done on the integer bits
    /// (<c>bits &lt; ⌈p · 2³²⌉</c>, the same test exactly), so every tier gives the scalar definition's bits.
    /// </summary>
    public static void KeepWithProbability(Span<float> values, float p, float scale, ulong streamKey, long elementOffset) =>
        KeepWithProbability(values, p, scale, streamKey, elementOffset, VectorTiers.Best);

    /// <summary>The same at a chosen tier (tests run each one against <see cref="VectorTier.Scalar"/>).</summary>
    public static void KeepWithProbability(Span<float> values, float p, float scale, ulong streamKey, long elementOffset, VectorTier tier)
    {
        // Bits < p·2³² ⟺ bits < ⌈p·2³²⌉ for integer bits; p·2³² is exact in double. p ≥ 1 keeps everything.
        ulong threshold = p >= 1 ? 1UL << 32 : p > 0 ? (ulong)Math.Ceiling(p * 4294967296.0) : 0;
        if (threshold > uint.MaxValue)
        {
            foreach (ref float v in values) v *= scale;
            return;
        }
        // The vector loops start on an even entry, so that each 64-bit hash lands on one (even, odd) pair.
        int i = values.Length > 0 && (elementOffset & 1) != 0 ? 1 : 0;
        if (i == 1) values[0] = Bits(streamKey, elementOffset) < threshold ? values[0] * scale : 0;
        var rest = values[i..];
        long pair = (elementOffset + i) >> 1;
        i += tier switch
        {
            VectorTier.Vector512 => Keep512(rest, (uint)threshold, scale, streamKey, pair),
            VectorTier.Vector256 => Keep256(rest, (uint)threshold, scale, streamKey, pair),
            VectorTier.Vector128 => Keep128(rest, (uint)threshold, scale, streamKey, pair),
            _ => 0,
        };
        for (; i < values.Length; i++)
            values[i] = Bits(streamKey, elementOffset + i) < threshold ? values[i] * scale : 0;
    }

    // Each tier hashes one vector of 64-bit counters key + Golden·pair (one per two entries), reads the hashes as twice
    // as many 32-bit lanes (little-endian: the low half first, i.e. the even entry) and masks a vector of values with an
    // unsigned comparison; it returns how many entries it did (the rest is the scalar tail). The counters advance by
    // adding Golden·pairs (wrapping, as the scalar product wraps) instead of multiplying anew.

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static int Keep512(Span<float> values, uint threshold, float scale, ulong streamKey, long pair)
    {
        var counter = Vector512.Create(streamKey) + (Vector512.Create((ulong)pair) + Vector512.Create(0UL, 1, 2, 3, 4, 5, 6, 7)) * Golden;
        var step = Vector512.Create(unchecked(8UL * Golden));
        var limit = Vector512.Create(threshold);
        ref float start = ref MemoryMarshal.GetReference(values);
        int i = 0;
        for (; i <= values.Length - 16; i += 16, counter += step)
        {
            var keep = Vector512.LessThan(Mix(counter).AsUInt32(), limit).AsSingle();
            var v = Vector512.LoadUnsafe(ref start, (nuint)i);
            (v * scale & keep).StoreUnsafe(ref start, (nuint)i);
        }
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static int Keep256(Span<float> values, uint threshold, float scale, ulong streamKey, long pair)
    {
        var counter = Vector256.Create(streamKey) + (Vector256.Create((ulong)pair) + Vector256.Create(0UL, 1, 2, 3)) * Golden;
        var step = Vector256.Create(unchecked(4UL * Golden));
        var limit = Vector256.Create(threshold);
        ref float start = ref MemoryMarshal.GetReference(values);
        int i = 0;
        for (; i <= values.Length - 8; i += 8, counter += step)
        {
            var keep = Vector256.LessThan(Mix(counter).AsUInt32(), limit).AsSingle();
            var v = Vector256.LoadUnsafe(ref start, (nuint)i);
            (v * scale & keep).StoreUnsafe(ref start, (nuint)i);
        }
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static int Keep128(Span<float> values, uint threshold, float scale, ulong streamKey, long pair)
    {
        var counter = Vector128.Create(streamKey) + (Vector128.Create((ulong)pair) + Vector128.Create(0UL, 1)) * Golden;
        var step = Vector128.Create(unchecked(2UL * Golden));
        var limit = Vector128.Create(threshold);
        ref float start = ref MemoryMarshal.GetReference(values);
        int i = 0;
        for (; i <= values.Length - 4; i += 4, counter += step)
        {
            var keep = Vector128.LessThan(Mix(counter).AsUInt32(), limit).AsSingle();
            var v = Vector128.LoadUnsafe(ref start, (nuint)i);
            (v * scale & keep).StoreUnsafe(ref start, (nuint)i);
        }
        return i;
    }

    /// <summary>SplitMix64's finaliser: a bijective avalanche of 64 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
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
