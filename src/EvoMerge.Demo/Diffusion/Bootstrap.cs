namespace EvoMerge.Demo.Diffusion;

/// <summary>Paired percentile bootstrap of a mean difference (Efron &amp; Tibshirani), seeded.</summary>
public static class Bootstrap
{
    public static (double Mean, double Low, double High) MeanDifference(IReadOnlyList<double> a, IReadOnlyList<double> b, int resamples = 2000, int seed = 0)
    {
        if (a.Count != b.Count || a.Count == 0) throw new ArgumentException("paired samples of equal, non-zero length expected");
        var d = a.Zip(b, (x, y) => x - y).ToArray();
        var rng = new Random(seed);
        var means = new double[resamples];
        for (int r = 0; r < resamples; r++)
        {
            double sum = 0;
            for (int i = 0; i < d.Length; i++) sum += d[rng.Next(d.Length)];
            means[r] = sum / d.Length;
        }
        Array.Sort(means);
        return (d.Average(), Quantile(means, 0.025), Quantile(means, 0.975));
    }

    /// <summary>Linear interpolation between order statistics (numpy's default "linear" method).</summary>
    static double Quantile(double[] sorted, double q)
    {
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos);
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
