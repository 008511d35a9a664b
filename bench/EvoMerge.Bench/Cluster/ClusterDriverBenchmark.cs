using System.Collections.Concurrent;
using System.Diagnostics;
using EvoMerge.Candidates;
using EvoMerge.Cluster;
using EvoMerge.Cluster.Driver;
using EvoMerge.Cluster.Worker;
using EvoMerge.Evolution;
using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.Optimizers;
using EvoMerge.Evolution.Run;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace EvoMerge.Bench.Cluster;

/// <summary>
/// What the driver costs per result, to see where one driver saturates with many GPU workers.
/// (1) Saturation: a real PS search (CMA-ES, journal, optimiser snapshots) through the real
/// <see cref="ClusterCandidateEvaluator"/> against in-process worker silos whose candidates take no time and return
/// per-item scores for every item: the run's wall time per result is the whole pipeline's cost (driver, Orleans
/// messaging, and the workers' side too, since they share this process: an upper bound for the driver).
/// (2) The parts of it, timed alone on the same work and results: work encoding and key, reply decoding, journal
/// append (flushed and synced), CMA-ES ask + tell per candidate.
/// (3) The projection to 64 GPU workers for candidates of 0.5 to 10 minutes.
/// Args: [population=64] [generations=10] [slots=64] [items=200] [layer-groups=8].
/// </summary>
public sealed class ClusterDriverBenchmark : IBenchmark
{
    public string Name => "cluster-driver";
    public string Description => "the cluster driver's cost per result (journal, optimiser, dispatch) and its 64-worker projection";

    static readonly ConcurrentQueue<(CandidateWork Work, CandidateResult Result)> Seen = new();

    public void Run(string[] args)
    {
        int population = Arg(args, 0, 64), generations = Arg(args, 1, 10), slots = Arg(args, 2, 64), items = Arg(args, 3, 200), groups = Arg(args, 4, 8);
        var root = Directory.CreateTempSubdirectory("evomerge-bench-driver");
        try
        {
            var config = Config(root.FullName, population, generations, items, groups);
            InstantWorker.Items = items;
            Saturate(config with { Optimizer = new OptimizerConfig { Population = 8, Generations = 2 } }, 2, 4, Path.Combine(root.FullName, "warm-up"));
            Seen.Clear();
            Console.WriteLine($"λ = {population}, {generations} generations, {slots} instant slots on 2 silos, {items} items per candidate, " +
                $"{config.Models.Count} models × {groups} layer groups (+ embeddings) × weight");
            var (results, wall, cpu, dims) = Saturate(config, 2, slots, Path.Combine(root.FullName, "run"));
            double perResult = wall / results;
            Console.WriteLine();
            Console.WriteLine("saturation (instant workers)\tresults\twall s\tresults/s\tms wall per result\tms CPU per result (all threads)");
            Console.WriteLine($"whole pipeline\t{results}\t{wall:0.00}\t{results / wall:0.0}\t{perResult * 1000:0.000}\t{cpu / results * 1000:0.000}");

            Console.WriteLine();
            Console.WriteLine("part (timed alone)\tms per result");
            var parts = Parts(Path.Combine(root.FullName, "run"), root.FullName, dims, population);
            foreach (var (name, ms) in parts) Console.WriteLine($"{name}\t{ms:0.000}");

            Console.WriteLine();
            Console.WriteLine("64 GPU workers: candidate minutes\tresults/s needed\tdriver busy (measured cost)\tworkers one driver saturates at");
            foreach (double minutes in (double[])[0.5, 1, 3, 10])
            {
                double needed = 64 / (minutes * 60);
                Console.WriteLine($"{minutes}\t{needed:0.000}\t{needed * perResult:P2}\t{minutes * 60 / perResult:0}");
            }
            Console.WriteLine("(a candidate cut into m parts is m results: multiply the needed rate by m at generation ends)");
        }
        finally { root.Delete(recursive: true); }
    }

    static int Arg(string[] args, int i, int fallback) => args.Length > i ? int.Parse(args[i]) : fallback;

    static (int Results, double Wall, double Cpu, int Dims) Saturate(EvolutionConfig config, int silos, int slots, string runDir)
    {
        InstantWorker.SlotsPerSilo = Math.Max(1, slots / silos);
        var builder = new TestClusterBuilder((short)silos);
        builder.AddSiloBuilderConfigurator<WorkerConfigurator>();
        builder.AddClientBuilderConfigurator<ClusterThroughputBenchmark.DriverConfigurator>();
        var cluster = builder.Build();
        cluster.Deploy();
        try
        {
            var evaluator = new ClusterCandidateEvaluator(cluster.Client, new InstantWorker(), ClusterEvaluatorOptions.Default with { SplitItems = false });
            var process = Process.GetCurrentProcess();
            var cpu0 = process.TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            var result = EvolutionRunner.Run(config, evaluator, runDir, new RunOptions(WriteModel: false));
            double wall = watch.Elapsed.TotalSeconds;
            process.Refresh();
            double cpu = (process.TotalProcessorTime - cpu0).TotalSeconds;
            var journal = Journal.Read(new RunFolder(runDir).JournalFile);
            return (journal.Count(e => !e.Cached), wall, cpu, journal[0].Genome?.Length ?? 0);
        }
        finally { cluster.StopAllSilos(); cluster.Dispose(); }
    }

    /// <summary>Each part of the driver's per-result work, timed alone over the saturation run's own works, results and journal lines.</summary>
    static List<(string, double)> Parts(string runDir, string root, int dims, int population)
    {
        var seen = Seen.ToArray();
        var works = seen.Select(s => s.Work).ToArray();
        var replies = seen.Select(s => WorkWire.Encode(s.Result)).ToArray();
        var entries = Journal.Read(new RunFolder(runDir).JournalFile);
        var list = new List<(string, double)>
        {
            ("work: encode + key (driver side of a send)", Time(works.Length, i => WorkWire.KeyOf(WorkWire.Encode(works[i])))),
            ($"reply: decode ({replies.Average(r => r.Length) / 1024:0.0} KiB JSON)", Time(replies.Length, i => WorkWire.DecodeResult(replies[i], "k"))),
        };
        string copy = Path.Combine(root, "journal-copy.jsonl");
        using (var journal = Journal.Open(copy))
            list.Add(("journal append (flushed and synced)", Time(entries.Count, i => journal.Append(entries[i]))));
        var cma = new CmaEs(dims, new OptimizerOptions(Seed: 1, PopulationSize: population));
        var random = new Random(1);
        int rounds = Math.Max(3, 2000 / population);
        list.Add(($"CMA-ES ask + tell, n = {dims}, λ = {population} (per candidate)", Time(rounds, _ =>
        {
            var genomes = cma.Ask();
            cma.Tell(genomes.Select(_ => random.NextDouble()).ToList());
        }) / population));
        return list;
    }

    /// <summary>Milliseconds per call of <paramref name="action"/> over <paramref name="count"/> calls (after one untimed call).</summary>
    static double Time(int count, Action<int> action)
    {
        action(0);
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < count; i++) action(i);
        return watch.Elapsed.TotalMilliseconds / count;
    }

    static EvolutionConfig Config(string root, int population, int generations, int items, int groups)
    {
        string dev = Path.Combine(root, "dev.jsonl");
        File.WriteAllLines(dev, Enumerable.Range(0, items).Select(i => $"{{\"question\": \"what is {i} + {i}?\", \"answer\": \"{2 * i}\"}}"));
        return new EvolutionConfig
        {
            Name = "bench-driver", Seed = 5, BaseDirectory = root,
            BaseModel = "/bench/base", Models = ["/bench/ja", "/bench/math", "/bench/code"],
            Ps = new PsConfig { Method = "task_arithmetic", Parameters = ["weight"], LayerGroups = groups },
            Optimizer = new OptimizerConfig { Population = population, Generations = generations },
            Fitness = [new TaskConfig { Task = "jsonl", Data = dev, Template = "{question}" }],
        };
    }

    /// <summary>A worker slot that scores in no time: every item of every task gets a score (the reply has a real size).</summary>
    sealed class InstantWorker : ICandidateEvaluator
    {
        internal static int SlotsPerSilo = 1, Items = 200;

        public int LayerCount(string model) => 32;

        public IEnumerable<CandidateResult> Evaluate(IReadOnlyList<CandidateWork> batch, CancellationToken cancellationToken)
        {
            foreach (var work in batch)
            {
                var outcomes = work.Tasks.Select(t =>
                {
                    var picked = t.Subset.Resolve(Items);
                    var scores = picked.Select(i => (double)((i * 7 + work.Key.Length) % 2)).ToArray();
                    return new TaskOutcome(scores.Average(), picked, scores, "accuracy");
                }).ToList();
                var result = new CandidateResult(work.Key, outcomes, 0, 0);
                Seen.Enqueue((work, result));
                yield return result;
            }
        }

        public void WriteModel(ModelBuild build, string folder, CancellationToken cancellationToken) => throw new NotSupportedException();
    }

    sealed class WorkerConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            silo.Configure<ClusterMembershipOptions>(ClusterSpec.FastFailureDetection);
            silo.AddEvoMergeWorker(new WorkerOptions($"instant-{Guid.NewGuid():N}"[..16], InstantWorker.SlotsPerSilo, _ => new InstantWorker()));
        }
    }
}
