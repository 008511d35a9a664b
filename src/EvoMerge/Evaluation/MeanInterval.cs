using MathNet.Numerics.Distributions;

namespace EvoMerge.Evaluation;

/// <summary>
/// The mean of independent replicates (e.g. one score per independently trained world) with its Student-t 95%
/// interval: mean ± t(0.975, n−1) · s/√n. With few replicates the interval is honest about being wide (n = 3:
/// t = 4.30); a single replicate has no interval.
/// </summary>
public sealed record MeanInterval(double Mean, double? Lower, double? Upper, int Count)
{
    public static MeanInterval Of(IReadOnlyList<double> values, double confidence = 0.95)
    {
        if (values.Count == 0) throw new ArgumentException("a mean needs at least one value");
        double mean = values.Average();
        if (values.Count == 1) return new MeanInterval(mean, null, null, 1);
        double sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        double half = StudentT.InvCDF(0, 1, values.Count - 1, 1 - (1 - confidence) / 2) * sd / Math.Sqrt(values.Count);
        return new MeanInterval(mean, mean - half, mean + half, values.Count);
    }
}
