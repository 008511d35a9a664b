namespace EvoMerge.Evaluation;

/// <summary>A difference of two models' mean item scores with its 95% paired bootstrap interval.</summary>
public sealed record ScoreDifference(double Difference, double Lower, double Upper)
{
    /// <summary>Whether the interval lies entirely above zero: the first model is better beyond resampling noise.</summary>
    public bool ExcludesZeroAbove => Lower > 0;
}

/// <summary>
/// The paired bootstrap of a difference of means (Efron &amp; Tibshirani; Koehn 2004 for MT): both models are scored on
/// the same items, the items are resampled with replacement, and the 2.5th and 97.5th percentiles of the resampled
/// mean differences bound the interval. Pairing removes the items' own difficulty from the noise.
/// </summary>
public static class PairedBootstrap
{
    public const int DefaultResamples = 2000;

    public static ScoreDifference Difference(IReadOnlyList<double> a, IReadOnlyList<double> b, int seed = 0, int resamples = DefaultResamples)
    {
        if (a.Count != b.Count || a.Count == 0)
            throw new ArgumentException($"paired scores need the same, non-zero number of items (got {a.Count} and {b.Count})");
        return Stratified([a.Zip(b, (x, y) => x - y).ToArray()], seed, resamples);
    }

    /// <summary>
    /// The mean over strata (e.g. independently trained worlds) of each stratum's mean paired difference; items are
    /// resampled within their stratum, so every world keeps its weight. One stratum is the plain paired bootstrap.
    /// </summary>
    public static ScoreDifference Stratified(IReadOnlyList<double[]> differences, int seed = 0, int resamples = DefaultResamples)
    {
        if (differences.Count == 0 || differences.Any(d => d.Length == 0))
            throw new ArgumentException("a stratified bootstrap needs at least one stratum and no empty one");
        var rng = new Random(seed);
        var means = new double[resamples];
        for (int r = 0; r < resamples; r++)
        {
            double total = 0;
            foreach (var d in differences)
            {
                double sum = 0;
                for (int i = 0; i < d.Length; i++) sum += d[rng.Next(d.Length)];
                total += sum / d.Length;
            }
            means[r] = total / differences.Count;
        }
        Array.Sort(means);
        return new ScoreDifference(differences.Average(d => d.Average()), Percentile(means, 0.025), Percentile(means, 0.975));
    }

    /// <summary>Linear interpolation between closest ranks (numpy's default percentile rule).</summary>
    public static double Percentile(double[] sorted, double q)
    {
        double at = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(at), hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
    }
}
