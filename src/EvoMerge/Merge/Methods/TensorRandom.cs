using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EvoMerge.Merge.Methods;

/// <summary>
/// Counter-based randomness for DARE/DELLA masks. Every draw is a pure function of (seed, tensor name, model, element
/// index), so the output is bit-identical whatever the thread count, the order tensors are processed in, or how a
/// tensor is split into blocks.
/// <list type="bullet">
/// <item>DELLA (a keep probability per entry) draws <see cref="Uniform"/>: one 64-bit hash per entry.</item>
/// <item>DARE (one probability for the whole tensor) draws <see cref="KeepBits"/>: 64 entries share each hash, one
/// bit apiece, so a mask costs 1/64 of a hash per entry at p = ½ and about 1/8 at other p.</item>
/// </list>
/// </summary>
public static class TensorRandom
{
    const ulong Golden = 0x9E3779B97F4A7C15UL;

    /// <summary>Bits of the uniform a DARE mask compares with its keep probability.</summary>
    public const int KeepBitCount = 24;

    /// <summary>The random key of one tensor: the seed mixed with a 64-bit FNV-1a hash of its name.</summary>
    public static ulong KeyFor(ulong seed, string tensorName)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in tensorName) { h ^= c; h *= 1099511628211UL; }
        return Mix(seed ^ Mix(h));
    }

    /// <summary>The key of model <paramref name="model"/>'s stream within a tensor.</summary>
    public static ulong StreamKey(ulong tensorKey, int model) => Mix(tensorKey + Golden * (ulong)(model + 1));

    /// <summary>Uniform in [0, 1) with 24 random bits (exactly representable as float): word <paramref name="index"/> of the stream, top bits.</summary>
    public static float Uniform(ulong streamKey, long index) => (Word(streamKey, index) >> 40) * (1.0f / (1 << 24));

    /// <summary>
    /// The integer a 24-bit uniform must stay below for an entry to be kept with probability <paramref name="p"/>:
    /// U / 2²⁴ &lt; p exactly when U &lt; ⌈p · 2²⁴⌉.
    /// </summary>
    public static uint KeepThreshold(float p) => p <= 0 ? 0 : p >= 1 ? 1u << KeepBitCount : (uint)Math.Ceiling(p * (double)(1 << KeepBitCount));

    /// <summary>
    /// DARE's keep decisions for entries 64·<paramref name="group"/> … 64·group + 63 of a stream, bit b for entry
    /// 64·group + b. Entry e's 24-bit uniform U has, as its bit 23 − j (most significant first), bit e mod 64 of stream
    /// word 24·group + j; the entry is kept when U &lt; <paramref name="threshold"/>. The comparison runs bit-sliced
    /// over all 64 entries from the top bit down and stops once every entry is decided, or once the threshold's
    /// remaining bits are all zero (no undecided entry can fall below it any more): the words it skips could not
    /// change the result, so this is the same mask as comparing all 24 bits.
    /// </summary>
    public static ulong KeepBits(ulong streamKey, long group, uint threshold)
    {
        if (threshold >= 1u << KeepBitCount) return ~0UL;
        ulong less = 0, undecided = ~0UL, first = (ulong)group * KeepBitCount;
        for (int j = 0; j < KeepBitCount && undecided != 0; j++)
        {
            int bit = KeepBitCount - 1 - j;
            if ((threshold & ((2u << bit) - 1)) == 0) break;
            ulong u = Word(streamKey, (long)first + j);
            if ((threshold >> bit & 1) != 0)
            {
                less |= undecided & ~u;
                undecided &= u;
            }
            else undecided &= ~u;
        }
        return less;
    }

    /// <summary>
    /// DARE's mask in place: entry i survives (multiplied by <paramref name="scale"/>) when its bit of
    /// <see cref="KeepBits"/> (stream entry <paramref name="elementOffset"/> + i) is set, else becomes 0. Sixteen
    /// entries at a time with AVX-512 once the entry index is a multiple of 16, so a vector never spans two draws.
    /// </summary>
    public static void KeepWithProbability(Span<float> values, float p, float scale, ulong streamKey, long elementOffset)
    {
        uint threshold = KeepThreshold(p);
        long group = -1;
        ulong bits = 0;
        int i = 0, n = values.Length;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i < n && ((elementOffset + i) & 15) != 0; i++) values[i] = Keep(elementOffset + i) ? values[i] * scale : 0;
            var laneBits = Vector512.Create(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768);
            var factor = Vector512.Create(scale);
            ref float start = ref MemoryMarshal.GetReference(values);
            for (; i <= n - 16; i += 16)
            {
                long e = elementOffset + i;
                if (e >> 6 != group) bits = KeepBits(streamKey, group = e >> 6, threshold);
                var lanes = Vector512.Create((int)(bits >> (int)(e & 63)) & 0xFFFF) & laneBits;
                var drop = Vector512.Equals(lanes, Vector512<int>.Zero).AsSingle();
                var v = Vector512.LoadUnsafe(ref start, (nuint)i);
                Vector512.ConditionalSelect(drop, Vector512<float>.Zero, v * factor).StoreUnsafe(ref start, (nuint)i);
            }
        }
        for (; i < n; i++) values[i] = Keep(elementOffset + i) ? values[i] * scale : 0;

        bool Keep(long e)
        {
            if (e >> 6 != group) bits = KeepBits(streamKey, group = e >> 6, threshold);
            return (bits >> (int)(e & 63) & 1) != 0;
        }
    }

    static ulong Word(ulong streamKey, long index) => Mix(streamKey + Golden * (ulong)index);

    /// <summary>SplitMix64's finaliser: a bijective avalanche of 64 bits.</summary>
    static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
