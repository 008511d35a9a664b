using System.Text.Json;
using System.Text.Json.Serialization;
using EvoMerge.Demo.Replicate;
using EvoMerge.Evaluation;

namespace EvoMerge.Demo.Diffusion;

/// <param name="OutputFolder">Receives <c>world-&lt;seed&gt;/models</c> (reused when training finished there),
/// <c>world-&lt;seed&gt;/demo</c> (reused when finished with the same plan) and <c>replicate.json</c>.</param>
/// <param name="Threads">Torch threads of training and the demos (1, as <c>demo train diffusion</c>'s default:
/// training is deterministic per seed and thread count).</param>
public sealed record DiffusionReplicateOptions(string OutputFolder, IReadOnlyList<int> Seeds, bool Quick = false, int Threads = 1);

/// <summary>One row of the diffusion demo over the worlds: test fidelity, realism and dev fidelity, each a mean with
/// its Student-t 95% interval over worlds.</summary>
public sealed record DiffusionReplicateRow(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("worlds")] int Worlds,
    [property: JsonPropertyName("fidelity")] MeanInterval Fidelity,
    [property: JsonPropertyName("realism_fd")] MeanInterval RealismFd,
    [property: JsonPropertyName("dev_fidelity")] MeanInterval? DevFidelity);

/// <summary><c>replicate.json</c> of <c>demo replicate diffusion</c>: the rows over worlds, and issue 18's claims per
/// world and pooled (paired bootstrap over test prompts, each world weighted alike).</summary>
public sealed record DiffusionReplicateSummary(
    [property: JsonPropertyName("seeds")] IReadOnlyList<int> Seeds,
    [property: JsonPropertyName("quick")] bool Quick,
    [property: JsonPropertyName("rows")] IReadOnlyList<DiffusionReplicateRow> Rows,
    [property: JsonPropertyName("comparisons")] IReadOnlyList<Comparison> Comparisons,
    [property: JsonPropertyName("real_fidelity")] MeanInterval RealFidelity,
    [property: JsonPropertyName("worlds")] IReadOnlyList<DiffusionSummary> Worlds)
{
    /// <summary>Left − right in fidelity on the Japanese test prompts: the evolved merges at 4 steps against J and L
    /// at 4 steps (the claim), against J at 50 steps (how close they come) and against the hand-set recipe J + ΔL they
    /// start from (what the search adds).</summary>
    public static IReadOnlyList<(string Left, string Right, string Claim)> Claims { get; } =
    [
        ("evolved-ps-te-j", "J@4", "evolved merge > J at 4 steps"),
        ("evolved-ps-te-j", "L@4", "evolved merge > L at 4 steps"),
        ("evolved-ps-te-j", "J@50", "evolved merge vs J at 50 steps"),
        ("evolved-ps-te-j", DiffusionDemoRunner.RecipeRow, "evolved merge vs the recipe J + ΔL"),
        ("evolved-ps", "J@4", "evolved merge > J at 4 steps"),
        ("evolved-ps", "L@4", "evolved merge > L at 4 steps"),
        ("evolved-ps", "J@50", "evolved merge vs J at 50 steps"),
        ("evolved-ps", DiffusionDemoRunner.RecipeRow, "evolved merge vs the recipe J + ΔL"),
    ];

    public static DiffusionReplicateSummary Of(IReadOnlyList<DiffusionSummary> worlds)
    {
        var rows = worlds.SelectMany(w => w.Rows.Select(r => r.Name)).Distinct().Select(name =>
        {
            var present = worlds.SelectMany(w => w.Rows.Where(r => r.Name == name)).ToList();
            return new DiffusionReplicateRow(name, present.Count,
                MeanInterval.Of(present.Select(r => r.Fidelity).ToList()),
                MeanInterval.Of(present.Select(r => r.RealismFd).ToList()),
                present.All(r => r.DevFidelity is not null) ? MeanInterval.Of(present.Select(r => r.DevFidelity!.Value).ToList()) : null);
        }).ToList();

        var comparisons = new List<Comparison>();
        foreach (var (left, right, claim) in Claims)
        {
            var perWorld = worlds
                .Where(w => w.Rows.Any(r => r.Name == left && r.PerPrompt is not null) && w.Rows.Any(r => r.Name == right && r.PerPrompt is not null))
                .Select(w => (w.Seed, Differences: w[left].PerPrompt!.Zip(w[right].PerPrompt!, (a, b) => a - b).ToArray())).ToList();
            foreach (var (seed, d) in perWorld)
                comparisons.Add(new Comparison(seed.ToString(System.Globalization.CultureInfo.InvariantCulture), left, right, claim,
                    PairedBootstrap.Stratified([d], seed, ReplicateSummary.Resamples)));
            if (perWorld.Count > 1)
                comparisons.Add(new Comparison("pooled", left, right, claim,
                    PairedBootstrap.Stratified(perWorld.Select(p => p.Differences).ToList(), 12345, ReplicateSummary.Resamples)));
        }
        return new DiffusionReplicateSummary(worlds.Select(w => w.Seed).ToList(), worlds.Any(w => w.Quick), rows, comparisons,
            MeanInterval.Of(worlds.Select(w => w.RealFidelity).ToList()), worlds);
    }
}

/// <summary>
/// The diffusion demo's protocol over independently trained worlds, as <see cref="DemoReplicate"/> is the LLM demo's:
/// for each seed, train base, J, L and the judge (unless a finished training is there), run the full diffusion demo
/// with that seed, then summarise (<see cref="DiffusionReplicateSummary"/>). A killed run resumes world by world.
/// </summary>
public static class DiffusionReplicate
{
    public const string FileName = "replicate.json";

    public static DiffusionReplicateSummary Run(DiffusionReplicateOptions options, IProgress<string>? progress = null,
        IProgress<DiffusionTrainingProgress>? training = null, CancellationToken cancellationToken = default)
    {
        if (options.Seeds.Count == 0) throw new EvoMergeException("demo replicate diffusion: --worlds or --seeds must name at least one world");
        if (options.Seeds.Distinct().Count() != options.Seeds.Count)
            throw new EvoMergeException($"demo replicate diffusion --seeds: each seed once (got {string.Join(",", options.Seeds)})");
        string output = Path.GetFullPath(options.OutputFolder);
        Directory.CreateDirectory(output);
        TorchSharp.torch.set_num_threads(options.Threads);
        var worlds = new List<DiffusionSummary>();
        foreach (int seed in options.Seeds)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string root = Path.Combine(output, $"world-{seed}"), models = Path.Combine(root, "models");
            // The training log is written last, so its presence means the four models are complete.
            if (!File.Exists(Path.Combine(models, DiffusionDemoTrainer.LogFile)))
            {
                progress?.Report($"world {seed}: training base, J, L and the judge");
                if (Directory.Exists(models)) Directory.Delete(models, recursive: true);
                DiffusionDemoTrainer.TrainAll(models, seed, progress: training);
            }
            string demo = Path.Combine(root, "demo");
            // A demo from before the recipe row (a linear mixer, no J + ΔL) is run again.
            var summary = DemoReplicate.FinishedSummary<DiffusionSummary>(Path.Combine(demo, DiffusionSummary.FileName),
                s => s.Quick == options.Quick && s.Rows.Any(r => r.Name == DiffusionDemoRunner.RecipeRow));
            if (summary is null)
            {
                progress?.Report($"world {seed}: the {(options.Quick ? "quick" : "full")} diffusion demo");
                if (Directory.Exists(demo)) Directory.Delete(demo, recursive: true);
                summary = DiffusionDemoRunner.Run(new DiffusionDemoOptions(models, demo, seed, options.Quick), progress, cancellationToken);
            }
            else progress?.Report($"world {seed}: reusing the finished demo in {demo}");
            worlds.Add(summary);
        }
        var result = DiffusionReplicateSummary.Of(worlds);
        // Rewritten on every run (a world added later changes the summary), through a temporary name.
        string path = Path.Combine(output, FileName), temp = path + ".partial";
        File.WriteAllText(temp, JsonSerializer.Serialize(result, DemoSummary.Json));
        File.Move(temp, path, overwrite: true);
        return result;
    }
}
