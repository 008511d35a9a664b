namespace EvoMerge.Merge.Recipes;

/// <summary>
/// A linear combination of source models whose coefficients change at positions of the flattened parameter order
/// (<see cref="Execution.FlatOrder"/>): element x of the merged model is Σₛ cₛ·θₛ(x), with c the coefficients of the
/// last segment that starts at or before x. Every M2N2 archive member is one: a source is a single segment with
/// coefficient 1 on itself, and a SLERP-with-split-point child of two blends is again a blend (one segment per
/// tensor at least, since slerp's coefficients depend on each tensor's norms; more where split points fell).
/// </summary>
/// <param name="Models">The sources, all with the tensor names and shapes of <c>Models[0]</c>, whose flattened order positions refer to.</param>
/// <param name="Segments">Ascending by start, the first at 0; each runs to the next one's start (the last to the end of the model).</param>
public sealed record BlendRecipe(IReadOnlyList<string> Models, IReadOnlyList<BlendSegment> Segments)
{
    /// <summary>Source <paramref name="model"/> alone.</summary>
    public static BlendRecipe Source(IReadOnlyList<string> models, int model)
    {
        var c = new double[models.Count];
        c[model] = 1;
        return new BlendRecipe(models, [new BlendSegment(0, c)]);
    }

    /// <summary>Index of the segment that holds flattened position <paramref name="position"/>.</summary>
    public int SegmentAt(long position)
    {
        int lo = 0, hi = Segments.Count - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (Segments[mid].Start <= position) lo = mid;
            else hi = mid - 1;
        }
        return lo;
    }

    /// <summary>Checks the shape of the data (a journal line or a hand-written file may be anything).</summary>
    public void Validate(string where)
    {
        if (Models.Count == 0) throw new EvoMergeException($"{where}: a blend needs at least one model");
        if (Segments.Count == 0 || Segments[0].Start != 0) throw new EvoMergeException($"{where}: the first segment must start at 0");
        for (int i = 0; i < Segments.Count; i++)
        {
            if (Segments[i].Coefficients.Length != Models.Count)
                throw new EvoMergeException($"{where}: segment {i} has {Segments[i].Coefficients.Length} coefficients for {Models.Count} models");
            if (i > 0 && Segments[i].Start <= Segments[i - 1].Start)
                throw new EvoMergeException($"{where}: segment starts must increase (segment {i} starts at {Segments[i].Start})");
            if (Segments[i].Coefficients.Any(c => !double.IsFinite(c)))
                throw new EvoMergeException($"{where}: segment {i} has a non-finite coefficient");
        }
    }
}

/// <summary>From flattened position <paramref name="Start"/> on, the coefficient of each source model.</summary>
public sealed record BlendSegment(long Start, double[] Coefficients);
