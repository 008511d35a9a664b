using System.Diagnostics;
using System.Globalization;
using EvoMerge.Demo;
using EvoMerge.Demo.Replicate;
using EvoMerge.Evaluation;
using EvoMerge.Evolution;
using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.M2n2;
using EvoMerge.Evolution.Run;
using EvoMerge.Torch.Evolution;
using static TorchSharp.torch;

namespace EvoMerge.Bench.Evolution;

/// <summary>
/// M2N2 against the demo's CMA-ES PS on the miniature world, over independently trained worlds (the demo's three
/// models trained from each seed). Per world: train (unless the models exist), run the demo (its "evolved PS" row is
/// CMA-ES from the task-arithmetic grid's best point, λ = 12 × 20 generations with minibatch re-scoring), then M2N2
/// over the two fine-tunes with the same number of evaluations, each scoring 100 fixed Japanese-math dev items (the
/// size of the demo's minibatches). Both best models are scored on the same test items; the table gives each test
/// task's accuracy and the paired bootstrap interval of M2N2 − CMA-ES, per world and pooled.
/// Args: [--seeds 1,2,3] [--out DIR] [--quick] [--train-scale 1] [--threads 1].
/// </summary>
public sealed class M2n2VersusCmaBenchmark : IBenchmark
{
    public string Name => "m2n2-vs-cma";
    public string Description => "M2N2 vs CMA-ES PS on the miniature world: test accuracy, paired bootstrap, ≥ 3 worlds";

    static readonly string[] Columns = ["ja_math_strict", "ja_math_number", "en_math", "ja_qa"];
    const int Resamples = 10_000;

    public void Run(string[] args)
    {
        var seeds = Option(args, "--seeds", "1,2,3").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList();
        string output = Path.GetFullPath(Option(args, "--out", Path.Combine("bench-out", "m2n2-vs-cma")));
        bool quick = args.Contains("--quick");
        double trainScale = double.Parse(Option(args, "--train-scale", "1"), CultureInfo.InvariantCulture);
        int threads = int.Parse(Option(args, "--threads", "1"), CultureInfo.InvariantCulture);

        var worlds = new List<World>();
        foreach (int seed in seeds)
        {
            string root = Path.Combine(output, $"world-{seed}"), models = Path.Combine(root, "models");
            var watch = Stopwatch.StartNew();
            if (!Directory.Exists(Path.Combine(models, DemoModelShape.MathFolder)))
            {
                Console.WriteLine($"world {seed}: training the three models (scale {trainScale})");
                DemoTrainer.TrainAll(models, seed, stepsScale: trainScale);
            }
            string demo = Path.Combine(root, "demo");
            var summary = DemoReplicate.Finished(demo, quick);
            if (summary is null)
            {
                Console.WriteLine($"world {seed}: the demo (CMA-ES PS and the rest){(quick ? ", quick" : "")}");
                if (Directory.Exists(demo)) Directory.Delete(demo, recursive: true);
                summary = DemoRunner.Run(new DemoOptions(models, demo, seed, quick, threads));
            }
            else Console.WriteLine($"world {seed}: reusing the finished demo in {demo} (`demo replicate` ran it)");
            int budget = summary.Rows.Single(r => r.Name == "evolved-ps").Evaluations;
            var cma = TestItems(Path.Combine(demo, "evolved-ps-dfs"));

            Console.WriteLine($"world {seed}: m2n2, {budget} evaluations");
            string data = Path.Combine(demo, "data");
            var config = new EvolutionConfig
            {
                Name = $"m2n2-world-{seed}",
                Seed = seed,
                Models = [Path.Combine(models, DemoModelShape.JapaneseFolder), Path.Combine(models, DemoModelShape.MathFolder)],
                Optimizer = new OptimizerConfig { Name = EvolutionConfigReader.M2n2Name, MaxEvaluations = budget, M2n2 = new M2n2Config() },
                Fitness = [DemoTasks.Fitness(data) with { Minibatch = null, Limit = DemoTasks.Minibatch }],
                Test = DemoTasks.Test(data).Select(t => t with { Limit = quick ? DemoPlan.Quick.TestLimit : null }).ToList(),
                BaseDirectory = root,
            };
            string run = Path.Combine(root, "m2n2");
            var done = FinishedTestItems(run);
            if (done is not null)
                Console.WriteLine($"world {seed}: reusing the finished m2n2 run in {run}");
            else
            {
                // A run killed part way resumes from its journal (the same archive as an uninterrupted run).
                bool resume = File.Exists(new RunFolder(run).JournalFile);
                if (resume) Console.WriteLine($"world {seed}: resuming the m2n2 run in {run}");
                using (var evaluator = new TorchCandidateEvaluator(new TorchEvaluatorOptions(threads, ScalarType.Float32, BatchSize: 256)))
                    EvolutionRunner.Run(config, evaluator, run, new RunOptions(Resume: resume, WriteModel: false));
                done = TestItems(run);
            }
            worlds.Add(new World(seed, budget, cma, done, watch.Elapsed.TotalSeconds));
        }
        Print(worlds);
        RunJson.WriteFile(Path.Combine(output, "m2n2-vs-cma.json"), worlds.Select(w => new
        {
            w.Seed, w.Budget, w.Seconds,
            Tasks = Columns.Select((c, k) => new { Task = c, Cma = w.Cma[k].Average(), M2n2 = w.M2n2[k].Average(), Interval = Interval([w], k) }),
        }));
    }

    /// <summary>Per test task, the per-item scores of the run's "best ps" test row.</summary>
    static double[][] TestItems(string runFolder) =>
        FinishedTestItems(runFolder) ?? throw new InvalidOperationException($"{runFolder}: its journal has no \"best ps\" test row");

    /// <summary>A finished run's test items (its journal holds the "best ps" test row), or null: run it (again).</summary>
    static double[][]? FinishedTestItems(string runFolder)
    {
        var journal = new RunFolder(runFolder).JournalFile;
        if (!File.Exists(journal)) return null;
        var row = Journal.Read(journal).SingleOrDefault(e => e.Kind == EntryKinds.Test && e.Label == "best ps");
        return row?.Items?.Select(t => t.Scores).ToArray();
    }

    sealed record World(int Seed, int Budget, double[][] Cma, double[][] M2n2, double Seconds);

    static void Print(List<World> worlds)
    {
        Console.WriteLine();
        Console.WriteLine("world\tevaluations\ttask\tCMA-ES\tM2N2\tM2N2 − CMA-ES [95 % paired bootstrap]");
        foreach (var w in worlds)
            for (int k = 0; k < Columns.Length; k++)
                Line(w.Seed.ToString(CultureInfo.InvariantCulture), w.Budget, k, [w]);
        for (int k = 0; k < Columns.Length; k++) Line("pooled", worlds.Sum(w => w.Budget), k, worlds);
        Console.WriteLine("(fitness: ja_math_strict on dev; the rest are abilities outside the fitness)");
    }

    static void Line(string world, int budget, int k, List<World> worlds)
    {
        double cma = worlds.Average(w => w.Cma[k].Average()), m2n2 = worlds.Average(w => w.M2n2[k].Average());
        var (lo, hi) = Interval(worlds, k);
        Console.WriteLine($"{world}\t{budget}\t{Columns[k]}\t{cma:F3}\t{m2n2:F3}\t{m2n2 - cma:+0.000;-0.000} [{lo:+0.000;-0.000}, {hi:+0.000;-0.000}]");
    }

    /// <summary>
    /// 95 % interval of the mean paired difference (M2N2 − CMA-ES), averaged over worlds: items are resampled with
    /// replacement within each world (the two models answer the same items), 10 000 times, seeded.
    /// </summary>
    static (double Low, double High) Interval(List<World> worlds, int k)
    {
        var d = PairedBootstrap.Stratified(worlds.Select(w => w.M2n2[k].Zip(w.Cma[k], (a, b) => a - b).ToArray()).ToList(), 12345, Resamples);
        return (d.Lower, d.Upper);
    }

    static string Option(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}
