using EvoMerge.Evolution.Optimizers;
// Inside namespace EvoMerge.*.Evolution, "Optimizers" names the namespace first; the alias reaches the factory class.

namespace EvoMerge.Tests.Evolution.Optimizers;

/// <summary>
/// The same seed and the same told fitness values give the same candidates bit for bit: a run is resumed by
/// replaying its journal through a fresh optimiser (issue 5, "everything seeded").
/// </summary>
public class DeterminismTests
{
    static double Rosenbrock(double[] u) => Enumerable.Range(0, u.Length - 1)
        .Sum(i => 100 * Math.Pow(u[i + 1] - u[i] * u[i], 2) + Math.Pow(1 - u[i], 2));

    public static TheoryData<string, bool> Names => new()
    {
        { "cma-es", false }, { "cma-es", true }, { "cma-es-diagonal", false }, { "cma-es-diagonal", true }, { "random", false },
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void Replaying_the_told_fitness_reproduces_every_candidate(string name, bool ipop)
    {
        var options = new OptimizerOptions(Seed: 7, IpopRestarts: ipop);
        var original = OptimizerFactory.Create(name, 6, options);
        var asked = new List<double[]>();
        var told = new List<double[]>();
        for (int g = 0; g < 120; g++)
        {
            var candidates = original.Ask();
            var fitness = candidates.Select(Rosenbrock).ToArray();
            asked.AddRange(candidates);
            told.Add(fitness);
            original.Tell(fitness);
        }

        var replay = OptimizerFactory.Create(name, 6, options);
        var replayed = new List<double[]>();
        foreach (var fitness in told)
        {
            replayed.AddRange(replay.Ask());
            replay.Tell(fitness);   // from the journal, nothing evaluated
        }
        Assert.Equal(asked.Count, replayed.Count);
        for (int i = 0; i < asked.Count; i++)
            Assert.True(asked[i].AsSpan().SequenceEqual(replayed[i]), $"candidate {i} differs");
        Assert.Equal(original.Ask().SelectMany(x => x), replay.Ask().SelectMany(x => x));
    }

    [Theory]
    [InlineData("cma-es")]
    [InlineData("cma-es-diagonal")]
    [InlineData("random")]
    public void Different_seeds_give_different_candidates(string name)
    {
        var a = OptimizerFactory.Create(name, 4, new OptimizerOptions(Seed: 1)).Ask();
        var b = OptimizerFactory.Create(name, 4, new OptimizerOptions(Seed: 2)).Ask();
        Assert.NotEqual(a.SelectMany(x => x), b.SelectMany(x => x));
    }

    [Fact]
    public void NSGA_II_replays_identically()
    {
        static double[] Objectives(double[] x) => [x[0], 1 - Math.Sqrt(x[0]) + x.Skip(1).Sum()];
        var first = new Nsga2(5, 2, new OptimizerOptions(Seed: 3, PopulationSize: 12));
        var second = new Nsga2(5, 2, new OptimizerOptions(Seed: 3, PopulationSize: 12));
        for (int g = 0; g < 40; g++)
        {
            var a = first.Ask();
            Assert.Equal(a.SelectMany(x => x), second.Ask().SelectMany(x => x));
            var objectives = a.Select(Objectives).ToArray();
            first.Tell(objectives);
            second.Tell(objectives);
        }
    }
}
