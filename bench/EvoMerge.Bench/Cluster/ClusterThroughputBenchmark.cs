using System.Diagnostics;
using EvoMerge.Candidates;
using EvoMerge.Cluster;
using EvoMerge.Cluster.Driver;
using EvoMerge.Cluster.Worker;
using EvoMerge.Demo;
using EvoMerge.Evolution;
using EvoMerge.Evolution.Config;
using EvoMerge.Torch.Evolution;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.TestingHost;
using TorchSharp;

namespace EvoMerge.Bench.Cluster;

/// <summary>
/// Candidates per hour of a PS search on the demo models (24 Japanese word problems per candidate by default) with 1, 2, …
/// worker silos of one slot and one torch thread each, in one process (Orleans TestingHost, real messaging), and
/// the fraction of worker slot time spent idle (between candidates, at generation ends, waiting for the driver).
/// A warm-up run (JIT, first model load) goes first and is not shown. Each run's wall time includes silo start-up
/// and each worker's first model load, so use enough generations that they do not dominate.
/// Args: [workers=1,2] [population=6] [generations=3] [fake-ms=0] [items=24]. items sets the candidate's size (dev
/// problems scored; at most the dev split's 300): real candidates score hundreds of items for minutes, and the
/// ratio between worker counts depends on how much fixed per-candidate cost (build, messages, journal) there is to
/// amortise. With fake-ms > 0 every candidate takes exactly
/// that long and uses no CPU, which isolates the scheduler: its idle fraction against the whole-candidate floor
/// 1 − λ / (w·⌈λ/w⌉) (λ = 12 on 5 workers: 20 %); fake candidates take time per item, so candidates cut into parts
/// are measured too. Per run it also prints each generation's idle fraction (slot time idle from the batch's start to
/// its last result) and the driver's serial time per result: folding results in (journal; the dispatcher keeps the
/// workers busy meanwhile) and, between batches, the optimiser and the run folder's files (every worker waits).
/// </summary>
public sealed class ClusterThroughputBenchmark : IBenchmark
{
    public string Name => "cluster";
    public string Description => "candidates/hour and idle fraction with 1, 2, … cluster workers";

    internal static int FakeMilliseconds;
    internal static int Items = 24;

    public void Run(string[] args)
    {
        int[] workerCounts = (args.Length > 0 ? args[0] : "1,2").Split(',').Select(int.Parse).ToArray();
        int population = args.Length > 1 ? int.Parse(args[1]) : 6, generations = args.Length > 2 ? int.Parse(args[2]) : 3;
        FakeMilliseconds = args.Length > 3 ? int.Parse(args[3]) : 0;
        Items = args.Length > 4 ? int.Parse(args[4]) : 24;
        var root = Directory.CreateTempSubdirectory("evomerge-bench-cluster");
        var config = Config(root.FullName, population, generations);
        Console.WriteLine($"λ = {population}, {generations} generations, {Items} items per candidate, {(FakeMilliseconds > 0 ? $"fake candidates of {FakeMilliseconds} ms" : "demo models, 1 thread per worker")}");
        Measure(config with { Optimizer = new OptimizerConfig { Population = 2, Generations = 1 } }, 1, Path.Combine(root.FullName, "warm-up"));
        Console.WriteLine("workers\tcandidates\twall s\tcandidates/hour\tvs first row\tideal\tidle fraction\twhole-candidate idle floor");
        (int Workers, double PerHour)? first = null;
        var runs = new List<(int, List<Batch>, (double Fold, double Between), int, double)>();
        foreach (int workers in workerCounts)
        {
            var (candidates, wall, idle) = Measure(config, workers, Path.Combine(root.FullName, $"w{workers}"));
            double perHour = candidates / wall * 3600;
            first ??= (workers, perHour);
            double floor = 1 - (double)population / (workers * (int)Math.Ceiling((double)population / workers));
            Console.WriteLine($"{workers}\t{candidates}\t{wall:0.0}\t{perHour:0}\t{perHour / first.Value.PerHour:0.00}×\t" +
                $"{(double)workers / first.Value.Workers:0.00}×\t{idle:P1}\t{floor:P1}");
            runs.Add((workers, LastBatches, LastSerial, candidates, floor));
        }
        foreach (var (workers, batches, serial, candidates, floor) in runs)
        {
            Console.WriteLine();
            Console.WriteLine($"{workers} worker(s): batch\tcandidates\twall s\tidle within the batch\twhole-candidate floor");
            foreach (var (b, i) in batches.Select((b, i) => (b, i)))
                Console.WriteLine($"{i}\t{b.Count}\t{b.Wall:0.00}\t{b.Idle:P1}\t{1 - (double)b.Count / (workers * (int)Math.Ceiling((double)b.Count / workers)):P1}");
            var search = batches.Where(b => b.Count == population).ToList();
            if (search.Count > 0)
                Console.WriteLine($"mean over the {search.Count} batches of λ = {population}: idle {search.Average(b => b.Idle):P1} (floor {floor:P1})");
            Console.WriteLine($"driver serial time per result: {serial.Fold / candidates * 1000:0.00} ms folding results in (journal; overlaps scoring), " +
                $"{serial.Between / candidates * 1000:0.00} ms between batches (optimiser, run files; every worker waits)");
        }
        root.Delete(recursive: true);
    }

    static (int Candidates, double Wall, double Idle) Measure(EvolutionConfig config, int workers, string runDir)
    {
        var builder = new TestClusterBuilder((short)workers);
        builder.AddSiloBuilderConfigurator<WorkerConfigurator>();
        builder.AddClientBuilderConfigurator<DriverConfigurator>();
        var cluster = builder.Build();
        cluster.Deploy();
        try
        {
            using var local = new TorchCandidateEvaluator(new TorchEvaluatorOptions(1, torch.ScalarType.Float32));
            var evaluator = new ClusterCandidateEvaluator(cluster.Client, local);
            var timed = new Timed(evaluator);
            var watch = Stopwatch.StartNew();
            var result = EvolutionRunner.Run(config, timed, runDir, new RunOptions(WriteModel: false));
            double wall = watch.Elapsed.TotalSeconds;
            LastBatches = timed.Batches;
            LastSerial = (timed.FoldSeconds, wall - timed.Batches.Sum(b => b.Wall) - timed.BeforeFirst);
            var status = evaluator.Workers;
            double idle = 1 - status.Sum(w => w.BusySeconds) / status.Sum(w => w.KnownSeconds);
            return (result.Summary.Stages.Sum(s => s.Evaluations), wall, idle);
        }
        finally { cluster.StopAllSilos(); cluster.Dispose(); }
    }

    static List<Batch> LastBatches = [];
    static (double Fold, double Between) LastSerial;

    /// <param name="Idle">1 − slot-seconds busy / slot-seconds known, from the batch's start to its last result.</param>
    sealed record Batch(int Count, double Wall, double Idle);

    /// <summary>
    /// Times each batch the search loop hands the cluster (a generation, a re-score, the test rows): its wall time,
    /// its workers' idle share, and the time the loop spends with each result (journal) before asking for the next.
    /// </summary>
    sealed class Timed(ClusterCandidateEvaluator inner) : ICandidateEvaluator
    {
        public List<Batch> Batches { get; } = [];
        public double FoldSeconds, BeforeFirst;
        readonly Stopwatch _clock = Stopwatch.StartNew();

        public int LayerCount(string model) => inner.LayerCount(model);

        public IEnumerable<CandidateResult> Evaluate(IReadOnlyList<CandidateWork> batch, CancellationToken cancellationToken)
        {
            if (Batches.Count == 0) BeforeFirst = _clock.Elapsed.TotalSeconds;   // silo start-up and first loads: not the driver's
            double start = _clock.Elapsed.TotalSeconds, fold = 0;
            var (busy0, known0) = Totals();
            foreach (var result in inner.Evaluate(batch, cancellationToken))
            {
                double handed = _clock.Elapsed.TotalSeconds;
                yield return result;
                fold += _clock.Elapsed.TotalSeconds - handed;
            }
            var (busy1, known1) = Totals();
            FoldSeconds += fold;
            Batches.Add(new Batch(batch.Count, _clock.Elapsed.TotalSeconds - start, known1 > known0 ? 1 - (busy1 - busy0) / (known1 - known0) : 0));
        }

        (double Busy, double Known) Totals()
        {
            var workers = inner.Workers;
            return (workers.Sum(w => w.BusySeconds), workers.Sum(w => w.KnownSeconds));
        }

        public void WriteModel(ModelBuild build, string folder, CancellationToken cancellationToken) => inner.WriteModel(build, folder, cancellationToken);
    }

    static EvolutionConfig Config(string root, int population, int generations)
    {
        string data = Path.Combine(root, "data");
        DemoTasks.WriteData(new MiniatureWorld().Splits, data);
        string dev = Path.Combine(root, "dev.jsonl");
        File.WriteAllLines(dev, File.ReadLines(Path.Combine(data, "ja_math_dev.jsonl")).Take(Items));
        string models = Path.GetFullPath(Path.Combine("demo", "models"));
        var fitness = DemoTasks.Fitness(data) with { Data = dev, Minibatch = null };
        return new EvolutionConfig
        {
            Name = "bench-cluster", Seed = 5, BaseDirectory = root,
            BaseModel = Path.Combine(models, "base"), Models = [Path.Combine(models, "ja"), Path.Combine(models, "math")],
            Ps = new PsConfig { Method = "task_arithmetic", Parameters = ["weight"], Globals = new Dictionary<string, double> { ["normalize"] = 0 } },
            Optimizer = new OptimizerConfig { Population = population, Generations = generations },
            Fitness = [fitness],
        };
    }

    sealed class WorkerConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            silo.Configure<ClusterMembershipOptions>(ClusterSpec.FastFailureDetection);
            silo.AddEvoMergeWorker(new WorkerOptions($"bench-{Guid.NewGuid():N}"[..14], 1, _ => FakeMilliseconds > 0
                ? new Sleeping(FakeMilliseconds)
                : new TorchCandidateEvaluator(new TorchEvaluatorOptions(1, torch.ScalarType.Float32))));
        }
    }

    /// <summary>The driver's client with the cluster's call timeouts (shared by the cluster benchmarks).</summary>
    internal sealed class DriverConfigurator : IClientBuilderConfigurator
    {
        public void Configure(Microsoft.Extensions.Configuration.IConfiguration configuration, IClientBuilder client) =>
            ClusterSpec.ConfigureClientTimeouts(client);
    }

    /// <summary>A candidate that takes a fixed time per item and no CPU, with the score of nothing (scheduler-only mode).</summary>
    sealed class Sleeping(int milliseconds) : ICandidateEvaluator
    {
        public int LayerCount(string model) => throw new NotSupportedException();

        public IEnumerable<CandidateResult> Evaluate(IReadOnlyList<CandidateWork> batch, CancellationToken cancellationToken)
        {
            foreach (var work in batch)
            {
                // Time in proportion to the items scored (Items per candidate): a part of a candidate takes its share.
                var items = work.Tasks.Select(t => t.Subset.Resolve(Items)).ToList();
                int ms = milliseconds * items.Sum(i => i.Length) / (Items * Math.Max(1, items.Count));
                Thread.Sleep(ms);
                yield return new CandidateResult(work.Key, items.Select(i => new EvoMerge.Candidates.TaskOutcome(0, i, new double[i.Length], "acc")).ToList(), 0, ms / 1000.0);
            }
        }

        public void WriteModel(ModelBuild build, string folder, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
