namespace EvoMerge.Merge.Methods;

/// <summary>
/// Whose arithmetic to follow where mergekit deviates from the method's paper (recipe <c>compat: mergekit</c> or
/// <c>--compat mergekit</c>). Each difference is listed in docs/merge.md.
/// </summary>
public enum MergeCompat
{
    /// <summary>The papers: DARE rescales kept entries by 1/density, karcher honours weights.</summary>
    Paper,

    /// <summary>mergekit's behaviour: DARE/DELLA rescale to match the L1 norm, karcher ignores weights.</summary>
    Mergekit,
}
