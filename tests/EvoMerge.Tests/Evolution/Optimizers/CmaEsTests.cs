using EvoMerge.Evolution.Optimizers;

namespace EvoMerge.Tests.Evolution.Optimizers;

public class CmaEsTests
{
    /// <summary>Sphere around a point with some coordinates outside the unit box: the constrained optimum is on a face.</summary>
    static readonly double[] OutsideOptimum = [-0.5, 1.5, 0.3, 0.7, 2.0, 0.5];
    static double ShiftedSphere(double[] x) => x.Select((v, i) => (v - OutsideOptimum[i]) * (v - OutsideOptimum[i])).Sum();

    [Theory]
    [InlineData(2, 6)]
    [InlineData(6, 9)]
    [InlineData(10, 10)]
    [InlineData(100, 17)]   // 4 + ⌊3·ln 100⌋ = 4 + ⌊13.8⌋
    public void Default_population_is_4_plus_floor_3_ln_n(int dimension, int expected)
    {
        Assert.Equal(expected, new CmaEs(dimension, new OptimizerOptions()).PopulationSize);
        Assert.Equal(expected, new CmaEs(dimension, new OptimizerOptions(), diagonal: true).PopulationSize);
    }

    [Fact]
    public void Starts_at_the_centre_of_the_box_with_sigma_one_sixth()
    {
        var cma = new CmaEs(4, new OptimizerOptions());
        Assert.Equal([0.5, 0.5, 0.5, 0.5], cma.Mean);
        Assert.Equal(1.0 / 6, cma.Sigma);
    }

    [Fact]
    public void Initial_point_and_sigma0_place_the_first_generation()
    {
        var cma = new CmaEs(3, new OptimizerOptions(Seed: 1, PopulationSize: 50, Sigma0: 0.01, Initial: [0.2, 0.9, 0.4]));
        foreach (var x in cma.Ask())
        {
            Assert.InRange(x[0], 0.15, 0.25);   // 5σ
            Assert.InRange(x[1], 0.85, 0.95);
            Assert.InRange(x[2], 0.35, 0.45);
        }
    }

    /// <summary>Hand-checked weights for n = 10 (λ = 10, μ = 5): w'_i = ln 5.5 − ln i; the positive ones sum to 1.</summary>
    [Fact]
    public void Weights_for_n10_follow_the_tutorial_formula()
    {
        var p = new CmaEs(10, new OptimizerOptions()).Parameters;
        Assert.Equal(5, p.Mu);
        double positiveSum = 0;
        for (int i = 1; i <= 5; i++) positiveSum += Math.Log(5.5) - Math.Log(i);   // 1.7047 + 1.0116 + 0.6061 + 0.3185 + 0.0953
        Assert.Equal(3.7362, positiveSum, 4);
        Assert.Equal((Math.Log(5.5) - Math.Log(1)) / positiveSum, p.Weights[0], 12);
        Assert.Equal(1.0, p.Weights.Take(5).Sum(), 12);
        Assert.Equal(3.7362 * 3.7362 / (1.7047 * 1.7047 + 1.0116 * 1.0116 + 0.6061 * 0.6061 + 0.3185 * 0.3185 + 0.0953 * 0.0953), p.MuEff, 3);
        Assert.All(p.Weights.Skip(5), w => Assert.True(w < 0));
        Assert.Equal(2 / (11.3 * 11.3 + p.MuEff), p.C1, 12);                 // c1 = 2 / ((n+1.3)² + μ_eff)
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Candidates_stay_in_the_box_and_the_search_converges_to_the_constrained_optimum(bool diagonal)
    {
        var cma = new CmaEs(OutsideOptimum.Length, new OptimizerOptions(Seed: 3), diagonal);
        for (int g = 0; g < 300 && !cma.IsConverged; g++)
        {
            var candidates = cma.Ask();
            Assert.All(candidates, x => Assert.All(x, v => Assert.InRange(v, 0.0, 1.0)));
            cma.Tell(candidates.Select(ShiftedSphere).ToArray());
        }
        double[] constrained = OutsideOptimum.Select(v => Math.Clamp(v, 0, 1)).ToArray();
        for (int i = 0; i < constrained.Length; i++) Assert.Equal(constrained[i], cma.Mean[i], 3);
    }

    [Fact]
    public void Ask_repeats_the_pending_generation_until_told()
    {
        var cma = new CmaEs(5, new OptimizerOptions(Seed: 9));
        var first = cma.Ask();
        first[0][0] = 42;   // callers cannot corrupt the optimiser's copy
        var again = cma.Ask();
        Assert.NotEqual(42, again[0][0]);
        Assert.Equal(cma.Ask().SelectMany(x => x), again.SelectMany(x => x));
    }

    [Fact]
    public void Tell_checks_that_it_answers_the_last_ask()
    {
        var cma = new CmaEs(3, new OptimizerOptions());
        Assert.Throws<InvalidOperationException>(() => cma.Tell([1.0]));
        cma.Ask();
        Assert.Throws<ArgumentException>(() => cma.Tell([1.0, 2.0]));
    }

    [Fact]
    public void NaN_fitness_ranks_last()
    {
        // A quarter of the candidates "fail" (NaN): the search must still converge on the rest.
        var cma = new CmaEs(4, new OptimizerOptions(Seed: 5));
        for (int g = 0; g < 200; g++)
        {
            var candidates = cma.Ask();
            cma.Tell(candidates.Select((x, k) => k % 4 == 3 ? double.NaN : x.Sum(v => (v - 0.3) * (v - 0.3))).ToArray());
        }
        Assert.All(cma.Mean, m => Assert.Equal(0.3, m, 3));
    }

    [Theory]
    [InlineData("optimizer.population", 1, 0.1)]
    [InlineData("optimizer.sigma0", 10, 0.0)]
    [InlineData("optimizer.sigma0", 10, double.NaN)]
    public void Bad_options_name_the_field(string field, int population, double sigma0)
    {
        var e = Assert.Throws<EvoMergeException>(() => new CmaEs(3, new OptimizerOptions(PopulationSize: population, Sigma0: sigma0)));
        Assert.StartsWith(field, e.Message);
    }

    [Fact]
    public void Initial_point_outside_the_box_is_rejected()
    {
        var e = Assert.Throws<EvoMergeException>(() => new CmaEs(2, new OptimizerOptions(Initial: [0.5, 1.5])));
        Assert.StartsWith("optimizer.initial", e.Message);
        Assert.Throws<EvoMergeException>(() => new CmaEs(2, new OptimizerOptions(Initial: [0.5])));
    }

    [Fact]
    public void Snapshot_holds_the_distribution()
    {
        var cma = new CmaEs(3, new OptimizerOptions());
        cma.Tell(cma.Ask().Select(x => x.Sum()).ToArray());
        var snapshot = cma.Snapshot();
        Assert.Equal("cma-es", snapshot.Name);
        Assert.Equal(1, snapshot.Generation);
        Assert.Equal(cma.Sigma, (double)snapshot.State["sigma"]);
        Assert.Equal(3, ((double[][])snapshot.State["covariance"]).Length);
        Assert.Equal("cma-es-diagonal", new CmaEs(3, new OptimizerOptions(), diagonal: true).Snapshot().Name);
    }
}
