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

    /// <summary>SplitMix64's finaliser: a bijective avalanche of 64 bits.</summary>
    static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
