using System.Buffers;
using System.Numerics.Tensors;

namespace EvoMerge.Merge.Kernels;

/// <summary>How a task vector is thinned before it is combined.</summary>
public enum SparsificationKind
{
    None,

    /// <summary>TIES: keep the top <c>density</c> fraction by magnitude.</summary>
    Magnitude,

    /// <summary>DARE: keep each entry with probability <c>density</c>.</summary>
    Random,

    /// <summary>Model Breadcrumbs: drop the top <c>gamma</c> outliers and the smallest entries, keep <c>density</c>.</summary>
    MagnitudeOutliers,

    /// <summary>DELLA MagPrune: keep probability grows with magnitude rank within each row, density ± epsilon.</summary>
    DellaMagprune,
}

/// <summary>What happens to the entries a sparsifier keeps.</summary>
public enum SparsificationRescale
{
    /// <summary>Kept entries keep their values.</summary>
    None,

    /// <summary>Random methods divide each kept entry by its keep probability (the DARE and DELLA papers).</summary>
    DivideByKeepProbability,

    /// <summary>Scale the thinned vector so that its L1 norm equals the one before thinning (mergekit; skipped near zero).</summary>
    MatchL1Norm,
}

/// <summary>The per-task-vector sparsifiers of the task-arithmetic family, in place over a span.</summary>
public static class Sparsification
{
    /// <summary>
    /// Thins <paramref name="delta"/> in place, then rescales what is kept (<see cref="SparsificationRescale"/>; magnitude
    /// methods have no keep probability, so they accept only <see cref="SparsificationRescale.None"/> and
    /// <see cref="SparsificationRescale.MatchL1Norm"/>). Random draws come from <paramref name="streamKey"/>'s stream
    /// at the entries' indices in the whole tensor (<paramref name="elementOffset"/> for the first).
    /// </summary>
    public static void Apply(SparsificationKind kind, Span<float> delta, double density, double gamma, double epsilon,
        SparsificationRescale rescale, ulong streamKey, int rows, Span<float> scratch, long elementOffset = 0)
    {
        bool random = kind is SparsificationKind.Random or SparsificationKind.DellaMagprune;
        if (rescale == SparsificationRescale.DivideByKeepProbability && !random && kind != SparsificationKind.None)
            throw new ArgumentException($"{kind} keeps entries by rank, not with a probability: rescale by the L1 norm or not at all");
        if (kind == SparsificationKind.None || density >= 1) return;
        int n = delta.Length;
        if (density <= 0) { delta.Clear(); return; }
        bool matchL1 = rescale == SparsificationRescale.MatchL1Norm, divide = rescale == SparsificationRescale.DivideByKeepProbability;
        float l1Before = matchL1 ? TensorPrimitives.SumOfMagnitudes(delta) : 0;
        switch (kind)
        {
            case SparsificationKind.Magnitude:
                int k = (int)(density * n);
                RankSelection.KeepRankWindow(delta, n - k, n, scratch);
                break;
            case SparsificationKind.MagnitudeOutliers:
                int target = (int)(density * n), top = (int)(gamma * n), bottom = n - target - top;
                if (bottom < 0) { top += bottom; bottom = 0; }
                RankSelection.KeepRankWindow(delta, bottom, n - top, scratch);
                break;
            case SparsificationKind.Random:
                float p = (float)density;
                TensorRandom.KeepWithProbability(delta, p, divide ? 1 / p : 1, streamKey, elementOffset);
                break;
            case SparsificationKind.DellaMagprune:
                DellaMagprune(delta, density, epsilon, divide, streamKey, rows);
                break;
        }
        if (matchL1) MatchL1(delta, l1Before);
    }

    /// <summary>
    /// DELLA (arXiv 2406.11617): within each row, entries ranked by magnitude get keep probabilities spread linearly
    /// over [density − ε, density + ε], smallest first; kept entries are divided by their own probability.
    /// </summary>
    static void DellaMagprune(Span<float> delta, double density, double epsilon, bool divideByProbability, ulong streamKey, int rows)
    {
        if (density - epsilon <= 0 || density + epsilon >= 1)
            throw new EvoMergeException($"della: density ± epsilon must lie in (0, 1), got density {density} and epsilon {epsilon}");
        int cols = delta.Length / rows;
        float[] keys = ArrayPool<float>.Shared.Rent(cols);
        int[] order = ArrayPool<int>.Shared.Rent(cols);
        try
        {
            for (int r = 0; r < rows; r++)
            {
                var row = delta.Slice(r * cols, cols);
                for (int c = 0; c < cols; c++) { keys[c] = Math.Abs(row[c]); order[c] = c; }
                // Stable ranks for equal magnitudes: sort by (magnitude, position).
                Array.Sort(keys, order, 0, cols);
                SortEqualRunsByPosition(keys, order, cols);
                for (int rank = 0; rank < cols; rank++)
                {
                    int c = order[rank];
                    double p = density - epsilon + (cols > 1 ? (double)rank / (cols - 1) : 0) * 2 * epsilon;
                    long index = (long)r * cols + c;
                    row[c] = TensorRandom.Uniform(streamKey, index) < p ? (divideByProbability ? (float)(row[c] / p) : row[c]) : 0;
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(keys);
            ArrayPool<int>.Shared.Return(order);
        }
    }

    static void SortEqualRunsByPosition(float[] keys, int[] order, int count)
    {
        for (int start = 0; start < count;)
        {
            int end = start + 1;
            while (end < count && keys[end] == keys[start]) end++;
            if (end - start > 1) Array.Sort(order, start, end - start);
            start = end;
        }
    }

    /// <summary>mergekit's rescale: multiply so that the L1 norm equals the one before masking (skipped near zero).</summary>
    static void MatchL1(Span<float> delta, float before)
    {
        float after = TensorPrimitives.SumOfMagnitudes(delta);
        if (before < 1e-7f || after < 1e-7f) return;
        TensorPrimitives.Multiply(delta, before / after, delta);
    }
}
