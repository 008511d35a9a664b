using System.Text.Json;
using EvoMerge.IO;

namespace EvoMerge.Demo.Replicate;

/// <param name="OutputFolder">Receives <c>world-&lt;seed&gt;/models</c> (reused when present, as <c>bench m2n2-vs-cma --out</c> does),
/// <c>world-&lt;seed&gt;/demo</c> and <c>replicate.json</c>.</param>
/// <param name="Threads">Torch threads of the demos.</param>
/// <param name="TrainingThreads">Torch threads of training (2, as the shipped models: training is deterministic per seed and thread count).</param>
public sealed record ReplicateOptions(string OutputFolder, IReadOnlyList<int> Seeds, bool Quick = false, int Threads = 1, int TrainingThreads = 2);

/// <summary>What <c>demo replicate</c> is doing: which world, and the phase inside it.</summary>
public readonly record struct ReplicateProgress(int Seed, string Phase, DemoProgress? Demo = null, DemoTrainingProgress? Training = null);

/// <summary>
/// The demo's protocol over independently trained worlds: for each seed, train the models (unless the folder has
/// them; the joint fine-tune is added to older folders), run the full demo with that seed, and summarise every row
/// over the worlds and the paper's Table-1 inequalities per world (<see cref="ReplicateSummary"/>).
/// </summary>
public static class DemoReplicate
{
    public const string FileName = "replicate.json";

    public static ReplicateSummary Run(ReplicateOptions options, IProgress<ReplicateProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (options.Seeds.Count == 0) throw new EvoMergeException("demo replicate: --worlds or --seeds must name at least one world");
        if (options.Seeds.Distinct().Count() != options.Seeds.Count)
            throw new EvoMergeException($"demo replicate --seeds: each seed once (got {string.Join(",", options.Seeds)})");
        string output = Path.GetFullPath(options.OutputFolder);
        Directory.CreateDirectory(output);
        var worlds = new List<DemoSummary>();
        foreach (int seed in options.Seeds)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string root = Path.Combine(output, $"world-{seed}"), models = Path.Combine(root, "models");
            var training = new SyncProgress<DemoTrainingProgress>(t => progress?.Report(new ReplicateProgress(seed, "train", Training: t)));
            TorchSharp.torch.set_num_threads(options.TrainingThreads);
            if (!File.Exists(Path.Combine(models, DemoModelShape.MathFolder, "config.json")))
            {
                progress?.Report(new ReplicateProgress(seed, "training base, A, B and the joint fine-tune"));
                // A half-trained world from a killed run is started again.
                if (Directory.Exists(models)) Directory.Delete(models, recursive: true);
                DemoTrainer.TrainAll(models, seed, training);
            }
            else if (!File.Exists(Path.Combine(models, DemoModelShape.JointFolder, "config.json")))
            {
                progress?.Report(new ReplicateProgress(seed, "training the joint fine-tune"));
                string joint = Path.Combine(models, DemoModelShape.JointFolder);
                if (Directory.Exists(joint)) Directory.Delete(joint, recursive: true);
                DemoTrainer.TrainJoint(models, seed, training);
            }
            string demo = Path.Combine(root, "demo");
            var summary = Finished(demo, options.Quick);
            if (summary is null)
            {
                progress?.Report(new ReplicateProgress(seed, options.Quick ? "the quick demo" : "the full demo"));
                TorchSharp.torch.set_num_threads(options.Threads);
                if (Directory.Exists(demo)) Directory.Delete(demo, recursive: true);
                summary = DemoRunner.Run(new DemoOptions(models, demo, seed, options.Quick, options.Threads),
                    new SyncProgress<DemoProgress>(p => progress?.Report(new ReplicateProgress(seed, "demo", Demo: p))), cancellationToken);
            }
            else progress?.Report(new ReplicateProgress(seed, $"reusing the finished demo in {demo}"));
            worlds.Add(summary);
        }
        var result = ReplicateSummary.Of(worlds);
        string path = Path.Combine(output, FileName), temp = path + ".partial";
        File.WriteAllText(temp, JsonSerializer.Serialize(result, DemoSummary.Json));
        File.Move(temp, path, overwrite: true);
        return result;
    }

    /// <summary>The summary of a demo that finished in <paramref name="demoFolder"/> with the same plan (quick or
    /// full), or null: a killed demo never wrote its summary, so it is run again (`bench m2n2-vs-cma` shares this).</summary>
    public static DemoSummary? Finished(string demoFolder, bool quick) =>
        FinishedSummary<DemoSummary>(Path.Combine(demoFolder, DemoSummary.FileName), s => s.Quick == quick);

    /// <summary>A summary file a finished demo wrote, if it is there, parses and <paramref name="samePlan"/> holds;
    /// otherwise null. The summary is written last, through a temporary name, so its presence means finished.</summary>
    public static T? FinishedSummary<T>(string path, Func<T, bool> samePlan) where T : class
    {
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<T>(File.ReadAllText(path)) is { } done && samePlan(done) ? done : null; }
        catch (JsonException) { return null; }
    }
}
