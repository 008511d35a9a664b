using MathNet.Numerics.Distributions;

namespace EvoMerge.Evaluation;

/// <summary>A count of successes out of trials, e.g. items solved out of items scored.</summary>
public readonly record struct Proportion(int Successes, int Trials)
{
    public double Value => Trials == 0 ? 0 : (double)Successes / Trials;

    public static Proportion Count<T>(IEnumerable<T> items, Func<T, bool> success)
    {
        int s = 0, n = 0;
        foreach (var item in items) { n++; if (success(item)) s++; }
        return new Proportion(s, n);
    }

    /// <summary>
    /// Wilson score interval (Wilson 1927; Newcombe 1998, method 3). Chosen over the normal approximation because
    /// evaluation subsets are small and accuracies near 0 or 1 are common, where the normal interval leaves [0, 1].
    /// </summary>
    public (double Lower, double Upper) WilsonInterval(double confidence = 0.95)
    {
        if (Trials == 0) return (0, 1);
        double z = Normal.InvCDF(0, 1, 1 - (1 - confidence) / 2);
        double n = Trials, p = Value, z2 = z * z;
        double center = (p + z2 / (2 * n)) / (1 + z2 / n);
        double half = z / (1 + z2 / n) * Math.Sqrt(p * (1 - p) / n + z2 / (4 * n * n));
        return (Math.Max(0, center - half), Math.Min(1, center + half));
    }
}
