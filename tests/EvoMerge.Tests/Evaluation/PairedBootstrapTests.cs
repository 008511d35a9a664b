using EvoMerge.Evaluation;

namespace EvoMerge.Tests.Evaluation;

public class PairedBootstrapTests
{
    [Fact]
    public void AConstantDifferenceHasAZeroWidthInterval()
    {
        var b = Enumerable.Range(0, 50).Select(i => (double)(i % 7)).ToArray();
        var r = PairedBootstrap.Difference(b.Select(x => x + 2.5).ToArray(), b);
        Assert.Equal((2.5, 2.5, 2.5), (r.Difference, r.Lower, r.Upper), new Close(1e-12));
        Assert.True(r.ExcludesZeroAbove);
    }

    [Fact]
    public void IntervalWidthMatchesTheNormalApproximation()
    {
        // Differences of ±1 with mean 0.2 over 400 items: sd = sqrt(1 − 0.04) ≈ 0.98, se = 0.049; the 95% interval
        // is about 0.2 ± 1.96·0.049 = [0.104, 0.296] (central limit theorem; bootstrap noise and skew allow ±0.02).
        var a = Enumerable.Range(0, 400).Select(i => i % 5 < 3 ? 1.0 : -1.0).ToArray();
        var r = PairedBootstrap.Difference(a, new double[400], seed: 3);
        Assert.Equal(0.2, r.Difference, 12);
        Assert.InRange(r.Lower, 0.084, 0.124);
        Assert.InRange(r.Upper, 0.276, 0.316);
    }

    [Fact]
    public void PercentileInterpolatesLikeNumpy()
    {
        // numpy.percentile([1, 2, 4, 8], 25) = 1.75; 97.5 → 8 - 0.075·4 = 7.7 (at = 2.925: 4 + 0.925·4).
        double[] x = [1, 2, 4, 8];
        Assert.Equal(1.75, PairedBootstrap.Percentile(x, 0.25), 12);
        Assert.Equal(7.7, PairedBootstrap.Percentile(x, 0.975), 12);
    }

    [Fact]
    public void StrataWeighEachWorldEquallyNotEachItem()
    {
        // World 1: 10 items, each 1 better; world 2: 100 items, each 3 better. The mean over worlds is 2 (pooled items
        // would give 310/110 = 2.82), and constant differences leave no resampling noise.
        var r = PairedBootstrap.Stratified([Enumerable.Repeat(1.0, 10).ToArray(), Enumerable.Repeat(3.0, 100).ToArray()]);
        Assert.Equal((2.0, 2.0, 2.0), (r.Difference, r.Lower, r.Upper), new Close(1e-12));
    }

    [Fact]
    public void UnpairedInputIsRefused() =>
        Assert.Throws<ArgumentException>(() => PairedBootstrap.Difference([1, 2], [1]));

    sealed class Close(double tolerance) : IEqualityComparer<(double, double, double)>
    {
        public bool Equals((double, double, double) x, (double, double, double) y) =>
            Math.Abs(x.Item1 - y.Item1) < tolerance && Math.Abs(x.Item2 - y.Item2) < tolerance && Math.Abs(x.Item3 - y.Item3) < tolerance;
        public int GetHashCode((double, double, double) obj) => 0;
    }
}
