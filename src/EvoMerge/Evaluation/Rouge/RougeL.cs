namespace EvoMerge.Evaluation.Rouge;

/// <summary>
/// ROUGE-L (Lin 2004) as Google's rouge_score computes it: the longest common subsequence of the token lists,
/// precision = LCS / |prediction|, recall = LCS / |reference|, F1 = 2PR / (P + R); 0 when either side has no tokens.
/// Reported ×100, as the paper's tables are.
/// </summary>
public static class RougeL
{
    public static double F1(IReadOnlyList<string> prediction, IReadOnlyList<string> reference)
    {
        if (prediction.Count == 0 || reference.Count == 0) return 0;
        int lcs = Lcs(prediction, reference);
        if (lcs == 0) return 0;
        double p = (double)lcs / prediction.Count, r = (double)lcs / reference.Count;
        return 2 * p * r / (p + r);
    }

    /// <summary>Length of the longest common subsequence, one row of the dynamic programme at a time.</summary>
    public static int Lcs(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        var previous = new int[b.Count + 1];
        var current = new int[b.Count + 1];
        for (int i = 1; i <= a.Count; i++)
        {
            for (int j = 1; j <= b.Count; j++)
                current[j] = a[i - 1] == b[j - 1] ? previous[j - 1] + 1 : Math.Max(previous[j], current[j - 1]);
            (previous, current) = (current, previous);
        }
        return previous[b.Count];
    }
}
