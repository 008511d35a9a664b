using EvoMerge.Cluster.Driver;
using EvoMerge.Evolution;
using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.Run;
using EvoMerge.Tests.Evolution;
using Orleans.TestingHost;

namespace EvoMerge.Cluster.Tests;

/// <summary>
/// Evolution runs whose evaluator is an in-process Orleans cluster of several silos, compared with the same run in
/// one process: the journals must be identical line for line, whatever the cluster does meanwhile.
/// </summary>
[Collection("cluster")]
public class ClusterRunTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("evo-cluster-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly ClusterEvaluatorOptions Fast = new(TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(200));

    static EvolutionConfig Config(int population, int generations) => new()
    {
        Name = "cluster",
        Seed = 3,
        BaseModel = "/m/base",
        Models = ["/m/a", "/m/b"],
        Ps = new PsConfig { Method = "task_arithmetic", Parameters = ["weight"] },
        Optimizer = new OptimizerConfig { Population = population, Generations = generations },
        Fitness = [new TaskConfig { Task = "jsonl", Data = "dev.jsonl", Minibatch = 10 }],
        Test = [new TaskConfig { Task = "jsonl", Data = "test.jsonl" }],
    };

    string[] SingleProcessJournal(EvolutionConfig config)
    {
        string run = Path.Combine(_dir, "single");
        EvolutionRunner.Run(config, new FakeEvaluator(), run);
        return File.ReadAllLines(new RunFolder(run).JournalFile);
    }

    [Fact]
    public async Task A_cluster_run_of_two_slot_workers_journals_what_one_process_journals_scores_each_work_once_and_feeds_a_late_joiner()
    {
        FakeWorkers.Reset(TimeSpan.FromMilliseconds(60), slots: 2);
        var config = Config(population: 7, generations: 5);
        await using var cluster = await FakeWorkers.Start(2);
        var statuses = new List<ClusterStatus>();
        string run = Path.Combine(_dir, "cluster");
        var file = new ClusterStatusFile(Path.Combine(_dir, "workers.json"), TimeSpan.FromMilliseconds(100));
        var evaluator = new ClusterCandidateEvaluator(cluster.Client, new FakeEvaluator(), Fast, new Progress(statuses, file));

        var evolve = Task.Run(() => EvolutionRunner.Run(config, evaluator, run));
        await WaitFor(() => JournalLines(run) >= 7, evolve);
        FakeWorkers.Hold = true;   // the run waits for the joiner, however slow its start on a loaded machine
        await cluster.StartAdditionalSiloAsync();
        await WaitFor(() => evaluator.Workers.Count == 3, evolve);
        FakeWorkers.Hold = false;
        await evolve;

        Assert.Equal(SingleProcessJournal(config), File.ReadAllLines(new RunFolder(run).JournalFile));
        Assert.All(FakeWorkers.Scored.Values, n => Assert.Equal(1, n));
        int realEvaluations = Journal.Read(new RunFolder(run).JournalFile).Count(e => !e.Cached);
        Assert.Equal(realEvaluations, FakeWorkers.Scored.Count);
        var workers = evaluator.Workers;
        Assert.Equal([2, 2, 2], workers.Select(w => w.Slots));
        Assert.All(workers, w => Assert.True(w.Results > 0, $"{w.Name} got no work"));
        Assert.Equal(realEvaluations, workers.Sum(w => w.Results));
        Assert.Contains(statuses, s => s.Message?.Contains("joined") == true);

        // The workers' status for the dashboard: while busy, each worker names the work it scores (keys of work the
        // workers really received); the file after the run holds the final counts, read as plain JSON.
        var busy = statuses.SelectMany(s => s.Workers).Where(w => w.State == "busy").ToList();
        Assert.NotEmpty(busy);
        Assert.All(busy, w => Assert.InRange(w.Work.Count, 1, w.Slots));
        var sent = FakeWorkers.Scored.Keys.Select(WorkWire.KeyOf).ToHashSet();
        Assert.Subset(sent, busy.SelectMany(w => w.Work).ToHashSet());
        Assert.All(statuses.SelectMany(s => s.Workers).Where(w => w.State == "idle"), w => Assert.Empty(w.Work));
        file.Dispose();
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(file.Path))!;
        var rows = json["workers"]!.AsArray();
        Assert.Equal(workers.Select(w => w.Name), rows.Select(r => (string)r!["name"]!));
        Assert.Equal(realEvaluations, rows.Sum(r => (int)r!["results"]!));
        Assert.All(rows, r => Assert.Equal("idle", (string)r!["state"]!));
        Assert.All(rows, r => Assert.Empty(r!["work"]!.AsArray()));
        Assert.Equal(0, (int)json["pending"]! + (int)json["running"]!);
        var time = (DateTime)json["time"]!;
        Assert.All(rows, r => Assert.InRange((DateTime)r!["last_seen"]!, time.AddSeconds(-30), time));
    }

    [Fact]
    public async Task Work_on_a_killed_silo_is_reassigned_and_counted_once()
    {
        FakeWorkers.Reset(TimeSpan.FromMilliseconds(150));
        var config = Config(population: 6, generations: 4);
        await using var cluster = await FakeWorkers.Start(3);
        var evaluator = new ClusterCandidateEvaluator(cluster.Client, new FakeEvaluator(), Fast);
        string run = Path.Combine(_dir, "cluster");

        var evolve = Task.Run(() => EvolutionRunner.Run(config, evaluator, run));
        await WaitFor(() => JournalLines(run) >= 6, evolve);
        // A secondary silo (the primary holds the test cluster's membership table), caught inside an evaluation
        // that hangs until it dies, so its work is surely lost with it.
        var victim = cluster.SecondarySilos[0];
        FakeWorkers.Stall = evaluator.Workers.Single(w => w.Silo == victim.SiloAddress.ToString()).Name;
        await WaitFor(() => FakeWorkers.Stalling, evolve);
        await cluster.KillSiloAsync(victim);
        await evolve;

        Assert.Equal(SingleProcessJournal(config), File.ReadAllLines(new RunFolder(run).JournalFile));
        var dead = Assert.Single(evaluator.Workers, w => w.State == "dead");
        Assert.Empty(dead.Work);
        Assert.Single(FakeWorkers.Scored.Values, n => n == 2);   // the work it held was scored again elsewhere
        int realEvaluations = Journal.Read(new RunFolder(run).JournalFile).Count(e => !e.Cached);
        Assert.Equal(realEvaluations, evaluator.Workers.Sum(w => w.Results));   // and used once
    }

    /// <summary>
    /// λ = 7 on 4 slots scores real tasks (a minibatched accuracy task, a perplexity task) item by item: the last
    /// candidates of each generation, the re-scores and the test rows are cut into parts over the idle slots.
    /// </summary>
    EvolutionConfig ItemConfig()
    {
        File.WriteAllLines(Path.Combine(_dir, "dev.jsonl"), Enumerable.Range(0, 30).Select(i => $"{{\"q\": \"question {i}\", \"answer\": \"{i % 3}\"}}"));
        File.WriteAllText(Path.Combine(_dir, "text.txt"), string.Join(" ", Enumerable.Range(0, 60).Select(i => $"word{i * 7 % 13}")));
        return Config(population: 7, generations: 3) with
        {
            BaseDirectory = _dir,
            Fitness =
            [
                new TaskConfig { Task = "jsonl", Data = "dev.jsonl", Template = "{q}", Minibatch = 12 },
                new TaskConfig { Task = "perplexity", Data = "text.txt", WindowChars = 40, ContextChars = 20, Weight = 0.01 },
            ],
            Test = [new TaskConfig { Task = "jsonl", Data = "dev.jsonl", Template = "{q}" }],
        };
    }

    [Fact]
    public async Task Candidates_cut_into_parts_over_idle_slots_journal_the_single_process_scores_bit_for_bit()
    {
        FakeWorkers.Reset(TimeSpan.FromMilliseconds(30), slots: 2, inner: () => new ItemScoringEvaluator());
        var config = ItemConfig();
        string single = Path.Combine(_dir, "single");
        EvolutionRunner.Run(config, new ItemScoringEvaluator(), single);
        await using var cluster = await FakeWorkers.Start(2);
        var evaluator = new ClusterCandidateEvaluator(cluster.Client, new ItemScoringEvaluator(), Fast with { ItemAlign = 2 });
        await WaitFor(async () => await Live(cluster) == 2);
        string run = Path.Combine(_dir, "cluster");
        EvolutionRunner.Run(config, evaluator, run);

        Assert.Equal(LoopbackCluster.Untimed(single), LoopbackCluster.Untimed(run));
        Assert.True(evaluator.SplitCandidates > 0, "no candidate was cut into parts");
        Assert.All(FakeWorkers.Scored.Values, n => Assert.Equal(1, n));   // each part and each whole candidate scored once
        // Every part counts its share: the workers' candidates add up to the candidates evaluated.
        int realEvaluations = Journal.Read(new RunFolder(run).JournalFile).Count(e => !e.Cached);
        Assert.Equal(realEvaluations, evaluator.Workers.Sum(w => w.Candidates), 9);
        Assert.True(evaluator.Workers.Sum(w => w.Results) > realEvaluations);
    }

    static async Task<int> Live(TestCluster cluster) =>
        (await cluster.Client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).Count;

    static async Task WaitFor(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("waited 60 s");
            await Task.Delay(20);
        }
    }

    static int JournalLines(string run) => File.Exists(new RunFolder(run).JournalFile)
        ? File.ReadAllLines(new RunFolder(run).JournalFile).Length : 0;

    static async Task WaitFor(Func<bool> condition, Task run)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!condition())
        {
            if (run.IsCompleted) { await run; throw new InvalidOperationException("the run ended before the test could act"); }
            if (DateTime.UtcNow > deadline) throw new TimeoutException("waited 60 s");
            await Task.Delay(5);
        }
    }

    sealed class Progress(List<ClusterStatus> statuses, IProgress<ClusterStatus>? next = null) : IProgress<ClusterStatus>
    {
        public void Report(ClusterStatus value)
        {
            lock (statuses) statuses.Add(value);
            next?.Report(value);
        }
    }
}
