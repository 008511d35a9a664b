using System.Diagnostics;
using EvoMerge.Candidates;
using EvoMerge.Cli;
using EvoMerge.Evolution.Run;
using EvoMerge.TestSupport;

namespace EvoMerge.Torch.Tests.Evolution;

/// <summary>
/// <c>evomerge evolve</c> with a Python fitness command (<c>External/scorer.py</c>) on constant-valued tiny models,
/// as a user runs it: to the end, and killed with SIGKILL while the scorer runs, then resumed.
/// </summary>
public class ExternalFitnessCliTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("evo-extcli-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string WriteConfig(string mode, string extra, int generations)
    {
        Directory.CreateDirectory(Path.Combine(_dir, "models"));
        ConstantModels.WriteSources(Path.Combine(_dir, "models"));
        string config = Path.Combine(_dir, "evolve.yml");
        File.WriteAllText(config, $"""
            name: ext
            seed: 6
            base_model: ./models/base
            models: [./models/a, ./models/b]
            ps: {"{"} method: task_arithmetic, parameters: [weight] {"}"}
            optimizer: {"{"} population: 4, generations: {generations} {"}"}
            fitness:
              - {"{"} command: "python3 {ConstantModels.Scorer} {mode} {"{model}"} {"{out}"} {extra}", timeout: 120 {"}"}
            """);
        return config;
    }

    static double Merged(ModelBuild build)
    {
        var recipe = ((MergeBuild)build).Recipe;
        return recipe.Value(0, 0, "weight") + 2 * recipe.Value(0, 1, "weight");
    }

    [Fact]
    public void Evolve_with_a_python_scorer_on_tiny_models_finishes_and_journals_its_scores()
    {
        string config = WriteConfig("score", "", generations: 3), run = Path.Combine(_dir, "run"), scratch = Path.Combine(_dir, "shm");
        Assert.Equal(0, CliApp.Run(["evolve", config, "--run-dir", run, "--dtype", "f32", "--threads", "1", "--scratch", scratch]));

        var search = Journal.Read(new RunFolder(run).JournalFile).Where(e => e.Kind == EntryKinds.Search).ToList();
        Assert.Equal(12, search.Count);
        foreach (var e in search)
        {
            Assert.Equal(ConstantModels.ScoreOf(Merged(e.Candidate)), e.Scores[0], 5);
            Assert.Equal(ConstantModels.Tensors.Length, Assert.Single(e.Items!).Scores.Length);
        }
        Assert.True(File.Exists(Path.Combine(run, "best-model", "config.json")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(scratch));
    }

    [Fact]
    public void Evolve_killed_with_sigkill_while_its_scorer_runs_then_resumed_journals_what_an_uninterrupted_run_journals()
    {
        string records = Path.Combine(_dir, "running"), scratch = Path.Combine(_dir, "shm");
        Directory.CreateDirectory(records);
        string config = WriteConfig("slow", records, generations: 4);
        string whole = Path.Combine(_dir, "whole"), killed = Path.Combine(_dir, "killed");
        Assert.Equal(0, KillNineTests.Evolve(config, whole, "--scratch", scratch).WaitForExitOrKill());
        Assert.Equal(16, Started());

        int killedPid;
        using (var evolve = KillNineTests.Evolve(config, killed, "--scratch", scratch))
        {
            killedPid = evolve.Id;
            string journal = new RunFolder(killed).JournalFile;
            var watch = Stopwatch.StartNew();
            // Kill while a scorer sleeps (its record exists), a few candidates in.
            while (!(KillNineTests.LineCount(journal) >= 5 && Directory.EnumerateFiles(records).Any()) && !evolve.HasExited
                   && watch.Elapsed < TimeSpan.FromMinutes(3))
                Thread.Sleep(10);
            Assert.False(evolve.HasExited, "the run finished before it could be killed");
            Thread.Sleep(50);   // into the scorer's 0.3 s
            evolve.Kill();   // SIGKILL: no handler, no cleanup; the scorer is orphaned
            evolve.WaitForExit();
        }
        Assert.InRange(KillNineTests.LineCount(new RunFolder(killed).JournalFile), 5, 4 * 4 - 1);
        Assert.Single(Directory.EnumerateDirectories(scratch, $"evomerge-scratch-{killedPid}-*"));   // the killed run leaves its scratch folder

        Assert.Equal(0, KillNineTests.Evolve(config, killed, "--resume", "--scratch", scratch).WaitForExitOrKill());

        Assert.Equal(KillNineTests.Untimed(whole), KillNineTests.Untimed(killed));   // no candidate lost, none repeated
        Assert.InRange(Started() - 16, 16, 17);   // the scorer run cut by the kill is the only one started again
        Assert.Empty(Directory.EnumerateFileSystemEntries(scratch));                  // the resumed run removed the killed one's folder

        int Started() => File.ReadAllLines(records + ".log").Length;
    }
}
