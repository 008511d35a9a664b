using System.Text.Json;
using EvoMerge.Demo.Diffusion;
using EvoMerge.Torch.Tests.Cli;

namespace EvoMerge.Demo.Tests;

/// <summary>
/// <c>demo replicate diffusion</c>'s summary against values worked by hand, and the command's reuse of finished worlds
/// (a world whose training log and quick demo summary exist is summarised without training or sampling anything).
/// </summary>
public sealed class DiffusionReplicateTests : IDisposable
{
    readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("evomerge-diffusion-replicate");

    public void Dispose() => folder.Delete(recursive: true);

    static DiffusionRow Row(string name, double fd, double? dev, params double[] perPrompt) =>
        new(name, 4, perPrompt.Average(), fd, 0, 0, dev, null, perPrompt);

    static DiffusionSummary World(int seed, double[] j4, double[] l4, double[] evolved, double real, bool quick = false) =>
        new([Row("J@4", 100, null, j4), Row("L@4", 200, null, l4), Row("J@50", 50, null, 0.9, 0.9, 0.9),
                Row(DiffusionDemoRunner.RecipeRow, 90, null, j4), Row("evolved-ps-te-j", 80, 0.6, evolved)],
            [], ["p1", "p2", "p3"], seed, quick, 1, "report/index.html", real);

    [Fact]
    public void Rows_are_means_over_worlds_and_claims_are_paired_per_world_and_pooled()
    {
        var w1 = World(1, j4: [0.1, 0.2, 0.3], l4: [0, 0, 0], evolved: [0.4, 0.5, 0.6], real: 0.8);
        var w2 = World(2, j4: [0.3, 0.3, 0.3], l4: [0, 0.3, 0], evolved: [0.5, 0.5, 0.5], real: 0.9);
        var s = DiffusionReplicateSummary.Of([w1, w2]);

        // Evolved fidelity per world 0.5 and 0.5: mean 0.5, no spread, so the t-interval is the point.
        var evolved = s.Rows.Single(r => r.Name == "evolved-ps-te-j");
        Assert.Equal(2, evolved.Worlds);
        Assert.Equal(0.5, evolved.Fidelity.Mean, 12);
        Assert.Equal(0.5, evolved.Fidelity.Lower!.Value, 12);
        Assert.Equal(0.5, evolved.Fidelity.Upper!.Value, 12);
        // J@4 per world 0.2 and 0.3: s = 0.0707107, s/√2 = 0.05, t(0.975, 1) = 12.706205 → ± 0.635310.
        var j4 = s.Rows.Single(r => r.Name == "J@4");
        Assert.Equal(0.25 - 0.635310, j4.Fidelity.Lower!.Value, 5);
        Assert.Equal(200, s.Rows.Single(r => r.Name == "L@4").RealismFd.Mean, 12);   // 200 in both worlds
        Assert.Null(j4.DevFidelity);
        Assert.Equal(0.6, evolved.DevFidelity!.Mean, 12);
        Assert.Equal(0.85, s.RealFidelity.Mean, 12);

        // evolved − J@4 in world 1: every prompt +0.3, so every resample is +0.3.
        var w1J = s.Comparisons.Single(c => c.World == "1" && c.Left == "evolved-ps-te-j" && c.Right == "J@4");
        Assert.Equal(0.3, w1J.Difference.Difference, 12);
        Assert.Equal(0.3, w1J.Difference.Lower, 12);
        Assert.Equal(0.3, w1J.Difference.Upper, 12);
        // evolved − L@4 in world 2: (0.5, 0.2, 0.5), mean 0.4; resamples lie in [0.2, 0.5].
        var w2L = s.Comparisons.Single(c => c.World == "2" && c.Left == "evolved-ps-te-j" && c.Right == "L@4");
        Assert.Equal(0.4, w2L.Difference.Difference, 12);
        Assert.InRange(w2L.Difference.Lower, 0.2, 0.4);
        // Pooled evolved − L@4: the mean of the worlds' means, 0.5 and 0.4.
        var pooled = s.Comparisons.Single(c => c.World == "pooled" && c.Left == "evolved-ps-te-j" && c.Right == "L@4");
        Assert.Equal(0.45, pooled.Difference.Difference, 12);
        // Rows a world lacks (evolved-ps here) give no comparison rather than a wrong one.
        Assert.DoesNotContain(s.Comparisons, c => c.Left == "evolved-ps");
    }

    [Fact]
    public void A_finished_world_is_summarised_without_training_or_sampling()
    {
        string world = Path.Combine(folder.FullName, "world-5");
        Directory.CreateDirectory(Path.Combine(world, "models"));
        File.WriteAllText(Path.Combine(world, "models", DiffusionDemoTrainer.LogFile), "model\tstep\tloss\tlr\n");
        Directory.CreateDirectory(Path.Combine(world, "demo"));
        var finished = World(5, j4: [0.1, 0.1, 0.1], l4: [0, 0, 0], evolved: [0.2, 0.3, 0.4], real: 0.8, quick: true);
        File.WriteAllText(Path.Combine(world, "demo", DiffusionSummary.FileName), finished.ToJson());

        var (code, stdout, stderr) = CliProcess.Run("demo", "replicate", "diffusion", "--seeds", "5", "--quick", "--json", "--out", folder.FullName);
        Assert.True(code == 0, stderr);
        Assert.Contains("reusing the finished demo", stderr);
        var summary = JsonSerializer.Deserialize<DiffusionReplicateSummary>(stdout)!;
        Assert.Equal([5], summary.Seeds);
        Assert.Equal(0.2, summary.Comparisons.Single(c => c.Right == "J@4").Difference.Difference, 12);
        Assert.True(File.Exists(Path.Combine(folder.FullName, DiffusionReplicate.FileName)));
        Assert.False(Directory.Exists(Path.Combine(world, "models", DiffusionDemoTrainer.Base)), "nothing was trained");

        // A second finished world, then the tables (intervals in square brackets, which the console reads as markup
        // unless escaped); replicate.json is rewritten for the two worlds.
        string second = Path.Combine(folder.FullName, "world-6");
        Directory.CreateDirectory(Path.Combine(second, "models"));
        File.WriteAllText(Path.Combine(second, "models", DiffusionDemoTrainer.LogFile), "model\tstep\tloss\tlr\n");
        Directory.CreateDirectory(Path.Combine(second, "demo"));
        File.WriteAllText(Path.Combine(second, "demo", DiffusionSummary.FileName), (finished with { Seed = 6 }).ToJson());
        var (tableCode, table, tableErrors) = CliProcess.Run("demo", "replicate", "diffusion", "--seeds", "5,6", "--quick", "--out", folder.FullName);
        Assert.True(tableCode == 0, tableErrors);
        Assert.Contains("[0.100, 0.100]", table);
        Assert.Contains("yes, above", table);
        Assert.Equal([5, 6], JsonSerializer.Deserialize<DiffusionReplicateSummary>(File.ReadAllText(Path.Combine(folder.FullName, DiffusionReplicate.FileName)))!.Seeds);
    }
}
