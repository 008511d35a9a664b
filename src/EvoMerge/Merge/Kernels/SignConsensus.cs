using System.Numerics;

namespace EvoMerge.Merge.Kernels;

/// <summary>TIES-style sign election: only contributions whose sign matches the elected sign are summed.</summary>
public static class SignConsensus
{
    /// <summary>mixed += wd and kept += w wherever sign(wd) equals the elected sign (sign ≥ 0 elects +; zeros never agree).</summary>
    public static void AddAgreeing(ReadOnlySpan<float> weighted, float weight, ReadOnlySpan<float> elected, Span<float> mixed, Span<float> kept)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var zero = Vector<float>.Zero;
            var w = new Vector<float>(weight);
            for (; i <= weighted.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var wd = new Vector<float>(weighted[i..]);
                var e = new Vector<float>(elected[i..]);
                var agree = Vector.BitwiseOr(
                    Vector.BitwiseAnd(Vector.GreaterThanOrEqual(e, zero), Vector.GreaterThan(wd, zero)),
                    Vector.BitwiseAnd(Vector.LessThan(e, zero), Vector.LessThan(wd, zero)));
                (new Vector<float>(mixed[i..]) + Vector.ConditionalSelect(agree, wd, zero)).CopyTo(mixed[i..]);
                (new Vector<float>(kept[i..]) + Vector.ConditionalSelect(agree, w, zero)).CopyTo(kept[i..]);
            }
        }
        for (; i < weighted.Length; i++)
        {
            float wd = weighted[i];
            if (elected[i] >= 0 ? wd > 0 : wd < 0) { mixed[i] += wd; kept[i] += weight; }
        }
    }
}
