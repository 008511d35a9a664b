using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.M2n2;

namespace EvoMerge.Tests.Evolution.M2n2;

public class M2n2ConfigTests
{
    const string Head = """
        name: x
        models: [a, b]
        fitness:
          - { task: mgsm, data: dev.tsv }

        """;

    static EvolutionConfig Parse(string tail) => EvolutionConfigReader.Parse(Head + tail, "evolve.yml", "/runs");

    [Fact]
    public void Defaults_are_the_reference_codes_for_pre_trained_models()
    {
        var m = Parse("optimizer: { name: m2n2, max_evaluations: 100 }").Optimizer.M2n2;
        Assert.Equal((20, 1.0, true, SplitPoints.Parameter, false, 0.01, 1),
            (m.ArchiveSize, m.Alpha, m.Attraction, m.SplitPoints, m.Mutation, m.MutationStd, m.InFlight));
    }

    [Fact]
    public void Every_setting_is_read()
    {
        var c = Parse("optimizer: { name: m2n2, max_evaluations: 50, archive_size: 8, alpha: 0.5, attraction: false, split_points: tensor, mutation: true, mutation_std: 0.02, in_flight: 4 }");
        var m = c.Optimizer.M2n2;
        Assert.Equal(("m2n2", 50), (c.Optimizer.Name, c.Optimizer.MaxEvaluations!.Value));
        Assert.Equal((8, 0.5, false, SplitPoints.Tensor, true, 0.02, 4),
            (m.ArchiveSize, m.Alpha, m.Attraction, m.SplitPoints, m.Mutation, m.MutationStd, m.InFlight));
    }

    [Theory]
    [InlineData("optimizer: { name: cma-es, generations: 2, alpha: 1 }", "line 5: 'optimizer.alpha' is a setting of m2n2; set 'name: m2n2' or remove it")]
    [InlineData("optimizer: { name: m2n2, generations: 2 }", "'optimizer.max_evaluations': m2n2 is steady state")]
    [InlineData("optimizer: { name: m2n2, max_evaluations: 9, population: 12 }", "'optimizer': m2n2 has no generations, population or restarts")]
    [InlineData("optimizer: { name: m2n2, max_evaluations: 9 }\nspace: ps+dfs", "m2n2 searches the parameter space only")]
    [InlineData("optimizer: { name: m2n2, max_evaluations: 9, alpha: -1 }", "'optimizer.alpha' must be a number ≥ 0")]
    [InlineData("optimizer: { name: m2n2, max_evaluations: 9, split_points: layer }", "'optimizer.split_points' must be one of parameter, tensor, none, got 'layer'")]
    [InlineData("optimizer: { name: m2n2, max_evaluations: 9, in_flight: 0 }", "'optimizer.in_flight' must be an integer ≥ 1")]
    [InlineData("optimizer: { name: m2n2, max_evaluations: 9, archive_sise: 4 }", "unknown key 'optimizer.archive_sise' (did you mean 'archive_size'?)")]
    public void Mistakes_name_the_key_and_the_expectation(string tail, string expected)
    {
        var e = Assert.Throws<EvoMergeException>(() => Parse(tail));
        Assert.StartsWith("evolve.yml: ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Minibatch_fitness_is_refused_because_sharing_compares_the_same_items()
    {
        var e = Assert.Throws<EvoMergeException>(() => EvolutionConfigReader.Parse("""
            name: x
            models: [a, b]
            optimizer: { name: m2n2, max_evaluations: 9 }
            fitness:
              - { task: mgsm, data: dev.tsv, minibatch: 10 }
            """, "evolve.yml", "/runs"));
        Assert.Contains("task 'mgsm': m2n2 compares every archive member item by item on the same items; remove 'minibatch'", e.Message);
    }
}
