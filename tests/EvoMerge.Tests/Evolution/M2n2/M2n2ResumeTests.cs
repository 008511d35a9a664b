using EvoMerge.Evolution;
using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.M2n2;
using EvoMerge.Evolution.Run;
using EvoMerge.Merge.Execution;

namespace EvoMerge.Tests.Evolution.M2n2;

/// <summary>
/// An M2N2 run stopped at any point (an exception thrown from the evaluator or from progress, as kill -9 leaves it:
/// nothing after it runs) and resumed must end as an uninterrupted run: the same journal line for line, the same
/// archive, the same report, and only the interrupted evaluation done twice.
/// </summary>
public class M2n2ResumeTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("evo-m2n2-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly List<InMemoryWeights> Sources = TinySources.Create(2, seed: 5);
    const int Budget = 30;

    static EvolutionConfig Config(int inFlight = 1) => new()
    {
        Name = "m2n2",
        Seed = 9,
        Models = ["/m/source0", "/m/source1"],
        Optimizer = new OptimizerConfig { Name = "m2n2", MaxEvaluations = Budget, M2n2 = new M2n2Config { ArchiveSize = 6, InFlight = inFlight } },
        Fitness = [new TaskConfig { Task = "jsonl", Data = "dev.jsonl" }],
        Test = [new TaskConfig { Task = "jsonl", Data = "test.jsonl" }],
    };

    static RunOptions Options(bool resume = false) =>
        new(Resume: resume, SourceWeights: model => Sources[int.Parse(model[^1..])]);

    static BlendFakeEvaluator Evaluator(int? killAt = null) => new(TinySources.Total) { KillAtCall = killAt };

    // 30 children (the 2 sources first), then the test split on the 2 sources and the best.
    const int TotalCalls = Budget + 3;

    (string[] Journal, string Archive, string Report) Outputs(string dir)
    {
        var folder = new RunFolder(dir);
        return (File.ReadAllLines(folder.JournalFile), File.ReadAllText(Path.Combine(folder.Stage("ps"), "m2n2-archive.json")),
            File.ReadAllText(Path.Combine(folder.Stage("ps"), "m2n2-report.json")));
    }

    (string[] Journal, string Archive, string Report) Uninterrupted()
    {
        string dir = Path.Combine(_dir, "whole");
        var evaluator = Evaluator();
        EvolutionRunner.Run(Config(), evaluator, dir, Options());
        Assert.Equal(TotalCalls, evaluator.Calls);
        return Outputs(dir);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]      // the second source: the archive holds one member
    [InlineData(3)]      // the first child
    [InlineData(17)]
    [InlineData(30)]     // the last child
    [InlineData(32)]     // while test-scoring
    public void Killed_during_an_evaluation_and_resumed_ends_as_an_uninterrupted_run(int killAt)
    {
        var whole = Uninterrupted();
        string dir = Path.Combine(_dir, "killed");
        Assert.Throws<SimulatedKill>(() => EvolutionRunner.Run(Config(), Evaluator(killAt), dir, Options()));
        File.AppendAllText(new RunFolder(dir).JournalFile, "{\"stage\":\"p");   // and the kill tore a line

        var resumed = Evaluator();
        EvolutionRunner.Run(Config(), resumed, dir, Options(resume: true));

        Assert.Equal(TotalCalls, killAt - 1 + resumed.Calls);
        var again = Outputs(dir);
        Assert.Equal(whole.Journal, again.Journal);
        Assert.Equal(whole.Archive, again.Archive);
        Assert.Equal(whole.Report, again.Report);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(29)]
    public void Killed_between_evaluations_and_resumed_ends_as_an_uninterrupted_run(int killAfterReport)
    {
        var whole = Uninterrupted();
        string dir = Path.Combine(_dir, "killed");
        var told = new List<int>();
        var killer = new SyncProgress(p =>
        {
            if (p.Stage != "ps") return;
            told.Add(p.Generation);
            if (told.Count == killAfterReport) throw new SimulatedKill();
        });
        var first = Evaluator();
        Assert.Throws<SimulatedKill>(() => EvolutionRunner.Run(Config(), first, dir, Options(), killer));
        Assert.Equal(Enumerable.Range(1, killAfterReport), told);   // one report per tell, counting the tells

        var resumed = Evaluator();
        EvolutionRunner.Run(Config(), resumed, dir, Options(resume: true));
        Assert.Equal(TotalCalls, first.Calls + resumed.Calls);   // nothing lost, nothing repeated
        var again = Outputs(dir);
        Assert.Equal(whole.Journal, again.Journal);
        Assert.Equal(whole.Archive, again.Archive);
        Assert.Equal(whole.Report, again.Report);
    }

    /// <summary>Synchronous progress (System.Progress posts to the thread pool, which would not stop the run).</summary>
    sealed class SyncProgress(Action<EvolutionProgress> report) : IProgress<EvolutionProgress>
    {
        public void Report(EvolutionProgress value) => report(value);
    }

    [Fact]
    public void The_archive_and_report_describe_the_run()
    {
        Uninterrupted();
        var folder = new RunFolder(Path.Combine(_dir, "whole"));
        var report = RunJson.ReadFile<M2n2Report>(Path.Combine(folder.Stage("ps"), "m2n2-report.json"));
        var journal = Journal.Read(folder.JournalFile).Where(e => e.Kind == EntryKinds.Search).ToList();
        Assert.Equal(Budget, report.Steps.Count);
        Assert.Equal(journal.MaxBy(e => e.Fitness)!.Generation, report.Best);
        // The family tree runs from the best back to the sources, every parent listed.
        var family = report.Family.ToDictionary(a => a.Id);
        Assert.Equal(report.Best, report.Family[0].Id);
        Assert.All(report.Family, a => Assert.All(a.Parents, p => Assert.True(family.ContainsKey(p))));
        Assert.Contains(report.Family, a => a.Parents.Length == 0);
        Assert.Equal(report.Family.Count(a => a.Split != null), report.SplitPoints.Count);
        // Coverage: the two sources solve disjoint halves of the items.
        Assert.Equal(0.5, report.Steps[0].Coverage, 12);
        Assert.Equal(1.0, report.Steps[1].Coverage, 12);
        Assert.True(File.Exists(folder.BestBlend("ps")));
        string text = File.ReadAllText(Path.Combine(folder.Stage("ps"), "m2n2-report.md"));
        Assert.Contains($"- child {report.Best} (fitness", text);
        Assert.Contains("source /m/source0", text);
    }

    [Fact]
    public void With_children_in_flight_a_resumed_run_replays_the_journal_and_finishes_the_budget()
    {
        string dir = Path.Combine(_dir, "flight");
        Assert.Throws<SimulatedKill>(() => EvolutionRunner.Run(Config(inFlight: 3), Evaluator(killAt: 12), dir, Options()));
        var before = File.ReadAllLines(new RunFolder(dir).JournalFile);

        EvolutionRunner.Run(Config(inFlight: 3), Evaluator(), dir, Options(resume: true));
        var after = Outputs(dir);
        Assert.Equal(before, after.Journal.Take(before.Length));
        var children = Journal.Read(new RunFolder(dir).JournalFile).Where(e => e.Kind == EntryKinds.Search).Select(e => e.Generation).ToList();
        Assert.Equal(Enumerable.Range(0, Budget), children.Order());   // each child told once

        // Resuming the finished run replays every line through a fresh optimiser and evaluates nothing: same archive.
        var idle = Evaluator();
        EvolutionRunner.Run(Config(inFlight: 3), idle, dir, Options(resume: true));
        Assert.Equal(0, idle.Calls);
        Assert.Equal(after.Archive, Outputs(dir).Archive);
    }
}
