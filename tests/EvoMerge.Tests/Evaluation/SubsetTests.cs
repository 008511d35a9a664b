using EvoMerge.Evaluation;

namespace EvoMerge.Tests.Evaluation;

public class SubsetTests
{
    [Fact]
    public void FirstTakesAPrefixAndClampsToTheTask()
    {
        Assert.Equal([0, 1, 2], Subset.First(3).Resolve(10));
        Assert.Equal([0, 1], Subset.First(5).Resolve(2));
        Assert.Equal(Enumerable.Range(0, 7), Subset.All.Resolve(7));
    }

    [Fact]
    public void SampleIsSeededDistinctSortedAndInRange()
    {
        var a = Subset.Sample(50, seed: 1).Resolve(1069);
        Assert.Equal(a, Subset.Sample(50, seed: 1).Resolve(1069));
        Assert.NotEqual(a, Subset.Sample(50, seed: 2).Resolve(1069));
        Assert.Equal(50, a.Distinct().Count());
        Assert.All(a, i => Assert.InRange(i, 0, 1068));
        Assert.Equal(a.Order(), a);
        Assert.Equal(Enumerable.Range(0, 5), Subset.Sample(9, seed: 3).Resolve(5));
    }

    [Fact]
    public void SamplesCoverTheTaskEvenly()
    {
        // 2,000 samples of 10 out of 100: each index should be drawn about 200 times (binomial sd ≈ 13.4).
        var counts = new int[100];
        for (int seed = 0; seed < 2000; seed++)
            foreach (int i in Subset.Sample(10, seed).Resolve(100)) counts[i]++;
        Assert.All(counts, c => Assert.InRange(c, 200 - 70, 200 + 70));
    }

    [Fact]
    public void IndexListKeepsItsOrderAndChecksRange()
    {
        Assert.Equal([5, 2, 9], Subset.Indices([5, 2, 9]).Resolve(10));
        var e = Assert.Throws<EvoMergeException>(() => Subset.Indices([3, 250]).Resolve(250));
        Assert.Contains("250", e.Message);
        Assert.Contains("0..249", e.Message);
    }

    [Fact]
    public void NegativeSizesAreRejected() =>
        Assert.Throws<EvoMergeException>(() => Subset.First(-1).Resolve(10));
}
