using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EvoMerge.Merge.Methods;

/// <summary>
/// Counter-based randomness for DARE/DELLA masks: element <c>i</c> of model <c>m</c> in tensor <c>name</c> draws
/// <c>Uniform(hash(seed, name, m, i))</c>. Because each draw depends only on those four values, the output is
/// bit-identical whatever the thread count, the order tensors are processed in, or how a tensor is split into blocks.
/// </summary>
public static class TensorRandom
{
    /// <summary>The random key of one tensor: the seed mixed with a 64-bit FNV-1a hash of its name.</summary>
    public static ulong KeyFor(ulong seed, string tensorName)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in tensorName) { h ^= c; h *= 1099511628211UL; }
        return Mix(seed ^ Mix(h));
    }

    /// <summary>The key of model <paramref name="model"/>'s stream within a tensor.</summary>
    public static ulong StreamKey(ulong tensorKey, int model) => Mix(tensorKey + 0x9E3779B97F4A7C15UL * (ulong)(model + 1));

    /// <summary>Uniform in [0, 1) with 24 random bits (exactly representable as float).</summary>
    public static float Uniform(ulong streamKey, long index) =>
        (Mix(streamKey + 0x9E3779B97F4A7C15UL * (ulong)index) >> 40) * (1.0f / (1 << 24));

    /// <summary>
    /// DARE's mask in place: entry i survives (multiplied by <paramref name="scale"/>) when
    /// <c>Uniform(streamKey, elementOffset + i) &lt; p</c>, else becomes 0. Sixteen entries at a time with AVX-512;
    /// the result is bit-identical to the scalar definition.
    /// </summary>
    public static void KeepWithProbability(Span<float> values, float p, float scale, ulong streamKey, long elementOffset)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var golden = Vector512.Create(0x9E3779B97F4A7C15UL);
            var lanes = Vector512.Create(0UL, 1, 2, 3, 4, 5, 6, 7);
            var key = Vector512.Create(streamKey);
            var threshold = Vector512.Create(p);
            var factor = Vector512.Create(scale);
            ref float start = ref MemoryMarshal.GetReference(values);
            for (; i <= values.Length - 16; i += 16)
            {
                var index = Vector512.Create((ulong)(elementOffset + i)) + lanes;
                var low = MixVector(key + golden * index) >> 40;
                var high = MixVector(key + golden * (index + Vector512.Create(8UL))) >> 40;
                var uniform = Vector512.ConvertToSingle(Vector512.Narrow(low, high).AsInt32()) * (1.0f / (1 << 24));
                var v = Vector512.LoadUnsafe(ref start, (nuint)i);
                Vector512.ConditionalSelect(Vector512.LessThan(uniform, threshold), v * factor, Vector512<float>.Zero).StoreUnsafe(ref start, (nuint)i);
            }
        }
        for (; i < values.Length; i++)
            values[i] = Uniform(streamKey, elementOffset + i) < p ? values[i] * scale : 0;
    }

    static Vector512<ulong> MixVector(Vector512<ulong> z)
    {
        z = (z ^ (z >> 30)) * Vector512.Create(0xBF58476D1CE4E5B9UL);
        z = (z ^ (z >> 27)) * Vector512.Create(0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    /// <summary>SplitMix64's finaliser: a bijective avalanche of 64 bits.</summary>
    static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
