namespace EvoMerge.Torch.Tests.Parity;

/// <summary>How far two runtimes' logits are apart, over every position of every prompt.</summary>
public readonly record struct LogitComparison(double MaxAbsDiff, double LogitScale, double ArgmaxAgreement)
{
    /// <summary>Largest difference as a fraction of the logits' standard deviation: comparable across models.</summary>
    public double Relative => MaxAbsDiff / LogitScale;

    public static LogitComparison Of(IReadOnlyList<float[]> expected, IReadOnlyList<float[]> actual, int vocab)
    {
        Assert.Equal(expected.Count, actual.Count);
        double maxDiff = 0, sum = 0, sumSq = 0;
        long n = 0;
        int rows = 0, agree = 0;
        for (int p = 0; p < expected.Count; p++)
        {
            Assert.Equal(expected[p].Length, actual[p].Length);
            for (int r = 0; r < expected[p].Length / vocab; r++)
            {
                var e = expected[p].AsSpan(r * vocab, vocab);
                var a = actual[p].AsSpan(r * vocab, vocab);
                for (int i = 0; i < vocab; i++)
                {
                    maxDiff = Math.Max(maxDiff, Math.Abs(e[i] - a[i]));
                    sum += e[i];
                    sumSq += (double)e[i] * e[i];
                    n++;
                }
                rows++;
                if (ArgMax(e) == ArgMax(a)) agree++;
            }
        }
        double mean = sum / n;
        return new LogitComparison(maxDiff, Math.Sqrt(sumSq / n - mean * mean), (double)agree / rows);
    }

    static int ArgMax(ReadOnlySpan<float> x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    public override string ToString() => $"max |Δ| = {MaxAbsDiff:G3} ({Relative:P3} of logit std {LogitScale:G3}), argmax agreement {ArgmaxAgreement:P1}";
}
