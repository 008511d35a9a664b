using EvoMerge.Evolution.Optimizers;

namespace EvoMerge.Tests.Evolution.Optimizers;

public class RandomSearchTests
{
    [Fact]
    public void Samples_the_box_uniformly()
    {
        var random = new RandomSearch(3, new OptimizerOptions(Seed: 11, PopulationSize: 1000));
        var samples = random.Ask().SelectMany(x => x).ToArray();
        Assert.All(samples, v => Assert.InRange(v, 0.0, 1.0));
        // Uniform on [0,1]: mean ½ (standard error √(1/12/3000) ≈ 0.005), each quarter holds ¼ (s.e. ≈ 0.008)
        Assert.Equal(0.5, samples.Average(), 0.02);
        for (int q = 0; q < 4; q++) Assert.Equal(0.25, samples.Count(v => v >= q / 4.0 && v < (q + 1) / 4.0) / 3000.0, 0.04);
    }

    [Fact]
    public void Is_reproducible_and_never_converges()
    {
        var a = new RandomSearch(4, new OptimizerOptions(Seed: 5));
        var b = new RandomSearch(4, new OptimizerOptions(Seed: 5));
        Assert.Equal(CmaParameters.DefaultPopulationSize(4), a.PopulationSize);
        for (int g = 0; g < 3; g++)
        {
            var candidates = a.Ask();
            Assert.Equal(candidates.SelectMany(x => x), b.Ask().SelectMany(x => x));
            a.Tell(candidates.Select(x => x.Sum()).ToArray());
            b.Tell(candidates.Select(x => x.Sum()).ToArray());
        }
        Assert.False(a.IsConverged);
        Assert.Equal(3, a.Generation);
    }
}
