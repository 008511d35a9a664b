using EvoMerge.Cluster.Driver;
using EvoMerge.Evolution;
using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.M2n2;
using EvoMerge.Evolution.Run;
using EvoMerge.Tests.Evolution.M2n2;
using Orleans.TestingHost;

namespace EvoMerge.Cluster.Tests;

/// <summary>
/// M2N2, the steady-state search (no generations), through the cluster evaluator on an in-process multi-silo
/// cluster: each child is its own call and results are told as they arrive, so a child stuck on one worker holds
/// nothing else back; with one child in flight the run is deterministic and each child is cut over the idle slots.
/// </summary>
[Collection("cluster")]
public class SteadyStateClusterTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("evo-steady-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly ClusterEvaluatorOptions Fast = new(TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(200), ItemAlign: 2);
    const int Budget = 24;

    EvolutionConfig Config(int inFlight)
    {
        File.WriteAllLines(Path.Combine(_dir, "dev.jsonl"), Enumerable.Range(0, 16).Select(i => $"{{\"q\": \"question {i}\", \"answer\": \"{i % 3}\"}}"));
        return new EvolutionConfig
        {
            Name = "steady", Seed = 4, BaseDirectory = _dir,
            Models = ["/m/source0", "/m/source1"],
            Optimizer = new OptimizerConfig { Name = "m2n2", MaxEvaluations = Budget, M2n2 = new M2n2Config { ArchiveSize = 6, InFlight = inFlight } },
            Fitness = [new TaskConfig { Task = "jsonl", Data = "dev.jsonl", Template = "{q}" }],
            Test = [new TaskConfig { Task = "jsonl", Data = "dev.jsonl", Template = "{q}" }],
        };
    }

    static readonly List<EvoMerge.Merge.Execution.InMemoryWeights> Sources = TinySources.Create(2, seed: 5);
    static RunOptions Options() => new(WriteModel: false, SourceWeights: model => Sources[int.Parse(model[^1..])]);

    [Fact]
    public async Task One_child_in_flight_is_cut_over_the_idle_slots_and_journals_what_one_process_journals()
    {
        FakeWorkers.Reset(TimeSpan.FromMilliseconds(20), inner: () => new ItemScoringEvaluator());
        var config = Config(inFlight: 1);
        string single = Path.Combine(_dir, "single");
        EvolutionRunner.Run(config, new ItemScoringEvaluator(), single, Options());
        await using var cluster = await FakeWorkers.Start(3);
        var evaluator = new ClusterCandidateEvaluator(cluster.Client, new ItemScoringEvaluator(), Fast);
        string run = Path.Combine(_dir, "cluster");
        EvolutionRunner.Run(config, evaluator, run, Options());

        Assert.Equal(LoopbackCluster.Untimed(single), LoopbackCluster.Untimed(run));
        Assert.True(evaluator.SplitCandidates > 0, "no child was cut into parts");
        Assert.True(evaluator.Workers.Count(w => w.Results > 0) >= 2, "one worker did all the work");
    }

    [Fact]
    public async Task A_child_stuck_on_one_worker_holds_back_no_other_result()
    {
        FakeWorkers.Reset(TimeSpan.FromMilliseconds(20), inner: () => new ItemScoringEvaluator());
        var config = Config(inFlight: 3);
        await using var cluster = await FakeWorkers.Start(3);
        var evaluator = new ClusterCandidateEvaluator(cluster.Client, new ItemScoringEvaluator(), Fast with { SplitItems = false });
        string run = Path.Combine(_dir, "cluster");
        var evolve = Task.Run(() => EvolutionRunner.Run(config, evaluator, run, Options()));
        try
        {
            await WaitFor(() => Lines(run) >= 3, evolve);
            FakeWorkers.StallNext = true;
            await WaitFor(() => FakeWorkers.Stalling, evolve);
            int atStall = Lines(run);
            // While the stuck child is out, the other workers' children are journaled and told one by one. Up to two of
            // the lines after the stall are children asked before the stuck one (in flight with it), so wait for 6 + 2.
            await WaitFor(() => Lines(run) >= atStall + 6 + 2, evolve);
            Assert.DoesNotContain(Journal.Read(new RunFolder(run).JournalFile), e => e.Hash == GenomeHash.Of(FakeWorkers.Stalled!));
        }
        finally { FakeWorkers.Release(); }
        await evolve;

        var search = Journal.Read(new RunFolder(run).JournalFile).Where(e => e.Kind == EntryKinds.Search).ToList();
        Assert.Equal(Budget, search.Count);
        Assert.Equal(Budget, search.Select(e => e.Generation).Distinct().Count());   // each child once
        int stuck = search.FindIndex(e => e.Hash == GenomeHash.Of(FakeWorkers.Stalled!));
        Assert.True(search.Take(stuck).Count(e => e.Generation > search[stuck].Generation) >= 6,
            "children asked after the stuck one were not journaled before it");
    }

    static int Lines(string run) => File.Exists(new RunFolder(run).JournalFile) ? LoopbackCluster.JournalLines(run) : 0;

    static async Task WaitFor(Func<bool> condition, Task run)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (!condition())
        {
            if (run.IsCompleted) { await run; throw new InvalidOperationException("the run ended before the test could act"); }
            if (DateTime.UtcNow > deadline) throw new TimeoutException("waited 90 s");
            await Task.Delay(5);
        }
    }
}
