using EvoMerge.Cli.Demo;
using EvoMerge.Demo.Replicate;

namespace EvoMerge.Demo.Tests;

public class ReplicateSummaryTests
{
    // Four test items per row: enough to compute every number below by hand.
    static DemoRow Row(string name, double dev, params double[] items) =>
        new(name, items.Average(), 0, 0, 0, 0, 0, dev, null, items);

    static DemoSummary World(int seed, double devA, double devB, double[] a, double[] b, double[] ps, double[] dfs, double[] dfs1, bool joint = true)
    {
        var rows = new List<DemoRow>
        {
            Row("A", devA, a), Row("B", devB, b), Row("average", 0, 0, 0, 0, 0), Row("task-arithmetic-best", 0.3, 1, 0, 0, 0),
            Row("dare-ties-default", 0, 0, 0, 0, 0),
        };
        if (joint) rows.Add(Row("joint-fine-tune", 0, 0, 0, 1, 0));
        rows.AddRange([Row("evolved-ps", 0.5, ps), Row("evolved-dfs", 0.4, dfs), Row("evolved-dfs-scales-1", 0.3, dfs1), Row("evolved-ps-dfs", 0.5, ps)]);
        return new DemoSummary(rows, seed, false, 1, []);
    }

    [Fact]
    public void Rows_get_the_mean_over_worlds_and_comparisons_a_paired_interval_per_world_and_pooled()
    {
        var w1 = World(11, 0.0, 0.2, a: [0, 0, 0, 0], b: [1, 0, 0, 0], ps: [1, 1, 0, 0], dfs: [1, 1, 1, 0], dfs1: [1, 0, 0, 0]);
        var w2 = World(12, 0.0, 0.2, a: [0, 0, 0, 0], b: [1, 1, 0, 0], ps: [1, 1, 1, 1], dfs: [1, 1, 0, 0], dfs1: [1, 1, 0, 0], joint: false);
        var s = ReplicateSummary.Of([w1, w2]);

        var ps = s.Rows.Single(r => r.Name == "evolved-ps");
        Assert.Equal(((0.5 + 1.0) / 2, 2), (ps.JaMathStrict.Mean, ps.Worlds));
        // Two worlds, 0.5 and 1: s = 0.353553, s/√2 = 0.25, t(0.975, 1) = 12.706205 → ± 3.176551.
        Assert.Equal(0.75 - 3.176551, ps.JaMathStrict.Lower!.Value, 5);
        Assert.Equal(1, s.Rows.Single(r => r.Name == "joint-fine-tune").Worlds);

        // evolved PS − B in world 11: items (1−1, 1−0, 0−0, 0−0) → mean 0.25; every resample lies in [0, 1].
        var psB = s.Comparisons.Single(c => c.World == "11" && c.Left == "evolved-ps" && c.Right == "B");
        Assert.Equal(0.25, psB.Difference.Difference, 12);
        Assert.InRange(psB.Difference.Lower, 0, 0.25);
        // Pooled: the mean of the two worlds' mean differences, 0.25 and 0.5.
        var pooled = s.Comparisons.Single(c => c.World == "pooled" && c.Left == "evolved-ps" && c.Right == "B");
        Assert.Equal(0.375, pooled.Difference.Difference, 12);
        // The joint fine-tune is compared only where the world has it, and not pooled over one world.
        Assert.Equal(["11"], s.Comparisons.Where(c => c.Right == "joint-fine-tune").Select(c => c.World));
    }

    [Fact]
    public void The_best_source_is_the_one_better_on_dev_not_on_test()
    {
        // On test A is better (1 of 4 vs 0); on dev B is: the comparison must use B.
        var w = World(11, devA: 0.1, devB: 0.3, a: [1, 0, 0, 0], b: [0, 0, 0, 0], ps: [1, 0, 0, 0], dfs: [1, 1, 0, 0], dfs1: [0, 0, 0, 0]);
        var c = ReplicateSummary.Of([w]).Comparisons.Single(c => c.Claim == "DFS > the best source");
        Assert.Equal(("B", 0.5), (c.Right, c.Difference.Difference));
    }

    [Fact]
    public void A_dev_test_gap_is_within_noise_when_smaller_than_the_wilson_half_width()
    {
        // 2 of 4 on test: Wilson 95% interval [0.150039, 0.849961] (z = 1.959964), half-width 0.349961.
        var gap = DevTestGap.Of(11, Row("evolved-ps", 0.8, 1, 1, 0, 0));
        Assert.Equal(0.3, gap.Gap, 12);
        Assert.Equal(0.349961, gap.TestNoise, 5);
        Assert.True(gap.WithinNoise);
        Assert.False(DevTestGap.Of(11, Row("evolved-ps", 0.9, 1, 1, 0, 0)).WithinNoise);
    }

    [Theory]
    [InlineData(null, "1,x", "'x' is not a non-negative whole number")]
    [InlineData(2, "1,2,3", "--worlds 2 but --seeds names 3 worlds")]
    [InlineData(0, null, "--worlds must be a positive number")]
    public void Bad_world_options_are_refused_in_one_line(int? worlds, string? seeds, string expected)
    {
        var e = Assert.Throws<EvoMergeException>(() => new DemoReplicateCommand.Settings { Worlds = worlds, Seeds = seeds }.SeedList());
        Assert.Contains(expected, e.Message);
        Assert.Equal([1, 2, 3], new DemoReplicateCommand.Settings { Worlds = 3 }.SeedList());
        Assert.Equal([11, 12], new DemoReplicateCommand.Settings { Seeds = "11, 12" }.SeedList());
    }
}
