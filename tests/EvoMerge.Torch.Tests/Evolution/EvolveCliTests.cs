using EvoMerge.Cli;
using EvoMerge.Evolution.Run;
using EvoMerge.TestSupport;

namespace EvoMerge.Torch.Tests.Evolution;

/// <summary><c>evomerge evolve</c> then <c>evomerge report</c> on real (tiny) models, as a user runs them.</summary>
public class EvolveCliTests(StoriesExperts experts) : IClassFixture<StoriesExperts>
{
    [SharedDataFact(StoriesExperts.Checkpoint)]
    public void Evolve_then_report_leave_a_run_folder_and_a_rendered_report()
    {
        string dir = Path.Combine(experts.Root, "cli");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "story.txt"), "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.\n");
        File.WriteAllText(Path.Combine(dir, "evolve.yml"), $"""
            name: cli
            seed: 3
            base_model: {experts.Base}
            models: [{experts.A}, {experts.B}]
            space: ps+dfs
            ps: {"{"} method: task_arithmetic, parameters: [weight], layer_groups: 2 {"}"}
            dfs: {"{"} repeats: 1, max_path_length: 6 {"}"}
            optimizer: {"{"} population: 4, generations: 2 {"}"}
            fitness:
              - {"{"} task: perplexity, data: story.txt {"}"}
            test:
              - {"{"} task: perplexity, data: story.txt {"}"}
            """);
        string run = Path.Combine(dir, "run");

        Assert.Equal(0, CliApp.Run(["evolve", Path.Combine(dir, "evolve.yml"), "--run-dir", run, "--threads", "1", "--dtype", "f32"]));
        var summary = RunJson.ReadFile<EvolutionSummary>(new RunFolder(run).SummaryFile);
        Assert.Equal(["ps", "dfs"], summary.Stages.Select(s => s.Stage));
        Assert.Equal(4, summary.Models.Count);   // two sources, best PS, best PS+DFS
        Assert.True(File.Exists(Path.Combine(run, "ps", "best-recipe.yml")));
        Assert.True(File.Exists(Path.Combine(run, "dfs", "best-path.json")));
        Assert.True(File.Exists(Path.Combine(run, "best-model", "layer_path.json")));

        Assert.Equal(0, CliApp.Run(["report", run]));
        string report = Path.Combine(run, "report");
        string html = File.ReadAllText(Path.Combine(report, "index.html"));
        string[] pngs = ["ps-fitness.png", "ps-weight.png", "dfs-fitness.png", "dfs-path.png"];
        foreach (var png in pngs)
        {
            Assert.Contains($"src=\"{png}\"", html);
            var bytes = File.ReadAllBytes(Path.Combine(report, png));
            Assert.True(bytes.Length > 5000, $"{png}: {bytes.Length} bytes");
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        }
        Assert.Contains("Comparison on the test split", html);
    }

    [Fact]
    public void A_misspelt_key_fails_with_one_line_naming_file_line_and_the_nearest_key()
    {
        string file = Path.Combine(Path.GetTempPath(), $"evo-bad-{Guid.NewGuid():N}.yml");
        File.WriteAllText(file, "name: x\nmodels: [a, b]\noptimizer: { generations: 1 }\nfitnes: []\n");
        try
        {
            var (code, _, err) = EvoMerge.Torch.Tests.Cli.CliRunner.Run("evolve", file);
            Assert.Equal(1, code);
            Assert.Equal($"error: {file}: line 4: unknown key 'fitnes' (did you mean 'fitness'?); valid keys: " +
                "name, seed, base_model, models, space, ps, dfs, optimizer, fitness, test, rescore_top", err.Trim());
        }
        finally { File.Delete(file); }
    }
}
