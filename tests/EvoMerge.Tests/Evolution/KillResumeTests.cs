using System.Text.Json;
using EvoMerge.Evolution;
using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.Run;

namespace EvoMerge.Tests.Evolution;

/// <summary>
/// A run stopped at any point and resumed must lose no evaluation, repeat none, and end exactly as an
/// uninterrupted run of the same seed: the same journal, line for line, and the same best.
/// </summary>
public class KillResumeTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("evo-kill-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // PS then DFS with minibatches: search, re-score and test entries, two stages, the PS model written between.
    static readonly EvolutionConfig Config = new()
    {
        Name = "kill",
        Seed = 5,
        BaseModel = "/m/base",
        Models = ["/m/a", "/m/b"],
        Space = SearchSpaceKind.PsThenDfs,
        Ps = new PsConfig { Method = "task_arithmetic", Parameters = ["weight"] },
        Dfs = new DfsConfig { Repeats = 1 },
        Optimizer = new OptimizerConfig { Population = 5, Generations = 3 },
        Fitness = [new TaskConfig { Task = "jsonl", Data = "dev.jsonl", Minibatch = 10 }],
        Test = [new TaskConfig { Task = "jsonl", Data = "test.jsonl" }],
    };

    // Calls of an uninterrupted run: 2 stages × 3 generations × (5 + 1 re-score) = 36 searches, the DFS stage's
    // 3 anchors (the PS model's, A's and B's own paths) before its search, then 4 test rows.
    const int TotalCalls = 43;

    (string[] Journal, string Best, int Calls) Uninterrupted()
    {
        string dir = Path.Combine(_dir, "whole");
        var evaluator = new FakeEvaluator();
        var result = EvolutionRunner.Run(Config, evaluator, dir);
        return (JournalOf(dir), BestOf(result, dir), evaluator.Calls);
    }

    // The DFS stage's model A lives in the run folder, so paths are compared with the folder name taken out.
    static string[] JournalOf(string dir) => File.ReadAllLines(new RunFolder(dir).JournalFile).Select(l => l.Replace(dir, "<run>")).ToArray();

    static string BestOf(EvolutionResult result, string dir) =>
        (JsonSerializer.Serialize(result.Best, RunJson.Options) + result.BestFitness.ToString("R")).Replace(dir, "<run>");

    [Theory]
    [InlineData(1)]
    [InlineData(4)]     // inside PS generation 0
    [InlineData(6)]     // the PS generation 0 re-score
    [InlineData(20)]    // while scoring the DFS stage's anchors
    [InlineData(23)]    // inside DFS generation 0
    [InlineData(41)]    // while test-scoring
    public void Killed_during_an_evaluation(int killAt)
    {
        var whole = Uninterrupted();
        Assert.Equal(TotalCalls, whole.Calls);
        string dir = Path.Combine(_dir, "killed");

        var killed = new FakeEvaluator { KillAtCall = killAt };
        Assert.Throws<SimulatedKill>(() => EvolutionRunner.Run(Config, killed, dir));
        File.AppendAllText(new RunFolder(dir).JournalFile, "{\"stage\":\"p");   // and the kill tore a line

        var resumed = new FakeEvaluator();
        var result = EvolutionRunner.Run(Config, resumed, dir, new RunOptions(Resume: true));

        Assert.Equal(killAt - 1 + resumed.Calls, whole.Calls);   // the interrupted evaluation is the only one redone
        Assert.Equal(whole.Journal, JournalOf(dir));
        Assert.Equal(whole.Best, BestOf(result, dir));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(5)]     // after the last candidate of a generation, before the optimiser was told
    [InlineData(17)]    // in the DFS stage
    public void Killed_between_evaluations(int killAfterReport)
    {
        var whole = Uninterrupted();
        string dir = Path.Combine(_dir, "killed");
        int reports = 0;
        var killer = new Progress(_ => { if (++reports == killAfterReport) throw new SimulatedKill(); });
        var first = new FakeEvaluator();
        Assert.Throws<SimulatedKill>(() => EvolutionRunner.Run(Config, first, dir, progress: killer));

        var resumed = new FakeEvaluator();
        var result = EvolutionRunner.Run(Config, resumed, dir, new RunOptions(Resume: true));

        Assert.Equal(whole.Calls, first.Calls + resumed.Calls);   // nothing lost, nothing repeated
        Assert.Equal(whole.Journal, JournalOf(dir));
        Assert.Equal(whole.Best, BestOf(result, dir));
    }

    [Fact]
    public void Resuming_a_finished_run_evaluates_nothing_and_gives_the_same_result()
    {
        var whole = Uninterrupted();
        var again = new FakeEvaluator();
        string dir = Path.Combine(_dir, "whole");
        var result = EvolutionRunner.Run(Config, again, dir, new RunOptions(Resume: true));
        Assert.Equal(0, again.Calls);
        Assert.Equal(whole.Best, BestOf(result, dir));
    }

    /// <summary>Synchronous progress (System.Progress posts to the thread pool, which would not stop the run).</summary>
    sealed class Progress(Action<EvolutionProgress> report) : IProgress<EvolutionProgress>
    {
        public void Report(EvolutionProgress value) => report(value);
    }
}
