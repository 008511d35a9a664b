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
/// Candidates per hour of a PS search on the demo models (24 Japanese word problems per candidate) with 1, 2, …
/// worker silos of one slot and one torch thread each, in one process (Orleans TestingHost, real messaging), and
/// the fraction of worker slot time spent idle (between candidates, at generation ends, waiting for the driver).
/// A warm-up run (JIT, first model load) goes first and is not shown. Each run's wall time includes silo start-up
/// and each worker's first model load, so use enough generations that they do not dominate.
/// Args: [workers=1,2] [population=6] [generations=3] [fake-ms=0]. With fake-ms > 0 every candidate takes exactly
/// that long and uses no CPU, which isolates the scheduler: its idle fraction against the whole-candidate floor
/// 1 − λ / (w·⌈λ/w⌉) (λ = 12 on 5 workers: 20 %).
/// </summary>
public sealed class ClusterThroughputBenchmark : IBenchmark
{
    public string Name => "cluster";
    public string Description => "candidates/hour and idle fraction with 1, 2, … cluster workers";

    internal static int FakeMilliseconds;

    public void Run(string[] args)
    {
        int[] workerCounts = (args.Length > 0 ? args[0] : "1,2").Split(',').Select(int.Parse).ToArray();
        int population = args.Length > 1 ? int.Parse(args[1]) : 6, generations = args.Length > 2 ? int.Parse(args[2]) : 3;
        FakeMilliseconds = args.Length > 3 ? int.Parse(args[3]) : 0;
        var root = Directory.CreateTempSubdirectory("evomerge-bench-cluster");
        var config = Config(root.FullName, population, generations);
        Console.WriteLine($"λ = {population}, {generations} generations, {(FakeMilliseconds > 0 ? $"fake candidates of {FakeMilliseconds} ms" : "demo models, 1 thread per worker")}");
        Measure(config with { Optimizer = new OptimizerConfig { Population = 2, Generations = 1 } }, 1, Path.Combine(root.FullName, "warm-up"));
        Console.WriteLine("workers\tcandidates\twall s\tcandidates/hour\tvs first row\tideal\tidle fraction\twhole-candidate idle floor");
        (int Workers, double PerHour)? first = null;
        foreach (int workers in workerCounts)
        {
            var (candidates, wall, idle) = Measure(config, workers, Path.Combine(root.FullName, $"w{workers}"));
            double perHour = candidates / wall * 3600;
            first ??= (workers, perHour);
            double floor = 1 - (double)population / (workers * (int)Math.Ceiling((double)population / workers));
            Console.WriteLine($"{workers}\t{candidates}\t{wall:0.0}\t{perHour:0}\t{perHour / first.Value.PerHour:0.00}×\t" +
                $"{(double)workers / first.Value.Workers:0.00}×\t{idle:P1}\t{floor:P1}");
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
            var watch = Stopwatch.StartNew();
            var result = EvolutionRunner.Run(config, evaluator, runDir, new RunOptions(WriteModel: false));
            double wall = watch.Elapsed.TotalSeconds;
            var status = evaluator.Workers;
            double idle = 1 - status.Sum(w => w.BusySeconds) / status.Sum(w => w.KnownSeconds);
            return (result.Summary.Stages.Sum(s => s.Evaluations), wall, idle);
        }
        finally { cluster.StopAllSilos(); cluster.Dispose(); }
    }

    static EvolutionConfig Config(string root, int population, int generations)
    {
        string data = Path.Combine(root, "data");
        DemoTasks.WriteData(new MiniatureWorld().Splits, data);
        string dev = Path.Combine(root, "dev.jsonl");
        File.WriteAllLines(dev, File.ReadLines(Path.Combine(data, "ja_math_dev.jsonl")).Take(24));
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

    sealed class DriverConfigurator : IClientBuilderConfigurator
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
                // Time in proportion to the items scored (24 per candidate): a part of a candidate takes its share.
                var items = work.Tasks.Select(t => t.Subset.Resolve(24)).ToList();
                int ms = milliseconds * items.Sum(i => i.Length) / (24 * Math.Max(1, items.Count));
                Thread.Sleep(ms);
                yield return new CandidateResult(work.Key, items.Select(i => new EvoMerge.Candidates.TaskOutcome(0, i, new double[i.Length], "acc")).ToList(), 0, ms / 1000.0);
            }
        }

        public void WriteModel(ModelBuild build, string folder, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
