using EvoMerge.Evaluation;

namespace EvoMerge.Tests.Evaluation;

public class ProportionTests
{
    // Published values: Newcombe, "Two-sided confidence intervals for the single proportion", Statistics in
    // Medicine 17 (1998), Table I, method 3 (Wilson score interval without continuity correction).
    [Theory]
    [InlineData(81, 263, 0.2553, 0.3662)]
    [InlineData(15, 148, 0.0624, 0.1605)]
    [InlineData(0, 20, 0.0000, 0.1611)]
    [InlineData(1, 29, 0.0061, 0.1718)]
    public void WilsonMatchesNewcombe1998(int successes, int trials, double lower, double upper)
    {
        var (l, u) = new Proportion(successes, trials).WilsonInterval();
        Assert.Equal(lower, l, 4);
        Assert.Equal(upper, u, 4);
    }

    [Fact]
    public void AllCorrectIsBoundedByOne()
    {
        // By hand: x = n = 10, z = 1.959964, z² = 3.841459: lower = n / (n + z²) = 10 / 13.841459 = 0.722467.
        var (l, u) = new Proportion(10, 10).WilsonInterval();
        Assert.Equal(0.722467, l, 6);
        Assert.Equal(1.0, u, 12);
    }

    [Fact]
    public void CountsAndValue()
    {
        var p = Proportion.Count([true, false, true, true], b => b);
        Assert.Equal(new Proportion(3, 4), p);
        Assert.Equal(0.75, p.Value);
        Assert.Equal((0, 1), new Proportion(0, 0).WilsonInterval());
    }
}
