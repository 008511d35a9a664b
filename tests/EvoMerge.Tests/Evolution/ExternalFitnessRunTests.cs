using EvoMerge.Candidates;
using EvoMerge.Evolution;
using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.External;
using EvoMerge.Evolution.Run;
using EvoMerge.TestSupport;

namespace EvoMerge.Tests.Evolution;

/// <summary>
/// Evolutions scored by an external program (<c>External/scorer.py</c>) on constant-valued tiny models, with no
/// in-process evaluator: every candidate is merged by the core, written to scratch, scored by Python, removed. A
/// merge of base 0, a 1 and b 2 with weights w₁, w₂ holds w₁ + 2·w₂ everywhere, so each journaled score is checked
/// against the scorer's formula applied to that number by hand.
/// </summary>
public class ExternalFitnessRunTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("evo-ext-").FullName;
    readonly string _scratch;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public ExternalFitnessRunTests()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "models"));
        ConstantModels.WriteSources(Path.Combine(_dir, "models"));
        _scratch = Path.Combine(_dir, "scratch");
    }

    EvolutionConfig Config(string fitness, string test = "", int generations = 3) => EvolutionConfigReader.Parse($"""
        name: ext
        seed: 2
        base_model: ./models/base
        models: [./models/a, ./models/b]
        ps: {"{"} method: task_arithmetic, parameters: [weight] {"}"}
        optimizer: {"{"} population: 4, generations: {generations} {"}"}
        fitness:
          - {fitness}
        {(test == "" ? "" : "test:\n  - " + test)}
        """, "evolve.yml", _dir);

    string Scorer(string mode, string extra = "") => $"command: \"python3 {ConstantModels.Scorer} {mode} {{model}} {{out}} {extra}\"";

    (EvolutionResult Result, string Run) Evolve(EvolutionConfig config, string name = "run")
    {
        string run = Path.Combine(_dir, name);
        using var scratch = new ScratchSpace(_scratch);
        var result = EvolutionRunner.Run(config, new ExternalFitnessEvaluator(null, scratch, "float32"), run);
        return (result, run);
    }

    static IReadOnlyList<JournalEntry> Journal(string run) => EvoMerge.Evolution.Run.Journal.Read(new RunFolder(run).JournalFile);

    /// <summary>The value every weight of the candidate's model has: w₁·1 + w₂·2 over base 0.</summary>
    static double Merged(ModelBuild build)
    {
        var recipe = ((MergeBuild)build).Recipe;
        return recipe.Value(0, 0, "weight") + 2 * recipe.Value(0, 1, "weight");
    }

    void AssertScratchEmpty() => Assert.Empty(Directory.EnumerateFileSystemEntries(_scratch));

    [Fact]
    public void A_run_scored_by_a_python_program_journals_its_scores_and_items_and_leaves_no_scratch()
    {
        var (result, run) = Evolve(Config($"{{ {Scorer("score")}, timeout: 60 }}",
            $"{{ command: [python3, {ConstantModels.Scorer}, score, \"{{model}}\", \"{{out}}\"] }}"));

        var search = Journal(run).Where(e => e.Kind == EntryKinds.Search).ToList();
        Assert.Equal(12, search.Count);
        foreach (var e in search)
        {
            double expected = ConstantModels.ScoreOf(Merged(e.Candidate));
            Assert.Equal(expected, e.Scores[0], 5);
            Assert.Equal(expected, e.Fitness, 5);
            var items = Assert.Single(e.Items!);
            Assert.Equal(Enumerable.Range(0, ConstantModels.Tensors.Length), items.Items);   // one item per tensor, as the scorer wrote
            Assert.All(items.Scores, s => Assert.Equal(expected, s, 5));
            Assert.Null(e.Failures);
        }
        Assert.True(search.Select(e => e.Scores[0]).Distinct().Count() > 1, "the candidates should differ");

        // The test split is scored by the same program: the sources where they are (1 and 2 everywhere), then the best.
        var test = Journal(run).Where(e => e.Kind == EntryKinds.Test).ToList();
        Assert.Equal(3, test.Count);
        Assert.Equal(ConstantModels.ScoreOf(1), test[0].Scores[0], 6);
        Assert.Equal(ConstantModels.ScoreOf(2), test[1].Scores[0], 6);
        Assert.Equal(ConstantModels.ScoreOf(Merged(result.Best)), test[2].Scores[0], 5);
        Assert.Equal(search.Max(e => e.Fitness), result.BestFitness);
        Assert.True(File.Exists(Path.Combine(run, "best-model", "config.json")));
        AssertScratchEmpty();
    }

    [Fact]
    public void With_policy_fail_a_crash_stops_the_run_naming_the_command_and_showing_its_stderr()
    {
        var e = Assert.Throws<EvoMergeException>(() => Evolve(Config($"{{ {Scorer("crash")} }}")));
        var lines = e.Message.Split('\n');
        Assert.Equal($"fitness command 'python3 {ConstantModels.Scorer} crash {{model}} {{out}}' exited with code 3; the last 20 line(s) of its stderr:", lines[0]);
        Assert.Equal(Enumerable.Range(10, 20).Select(i => $"  stderr line {i}"), lines[1..]);
        Assert.Empty(Journal(Path.Combine(_dir, "run")));   // nothing scored, so --resume starts with this candidate again
        AssertScratchEmpty();
    }

    [Fact]
    public void With_policy_retry_a_failed_try_is_run_again_and_the_journal_keeps_its_stderr()
    {
        string counter = Path.Combine(_dir, "calls");
        var (_, run) = Evolve(Config($"{{ {Scorer("flaky", counter)}, policy: retry }}", generations: 2));   // odd calls crash
        var search = Journal(run).Where(e => e.Kind == EntryKinds.Search).ToList();
        Assert.Equal(8, search.Count);
        Assert.Equal("16", File.ReadAllText(counter));
        foreach (var entry in search)
        {
            Assert.Equal(ConstantModels.ScoreOf(Merged(entry.Candidate)), entry.Scores[0], 5);
            var failure = Assert.Single(entry.Failures!);
            Assert.Equal((0, 1, "exited with code 3", false), (failure.Task, failure.Try, failure.Error, failure.Skipped));
            Assert.Equal("stderr line 29", failure.Stderr[^1]);
        }
        Assert.Contains("\"failures\":[{\"task\":0,\"try\":1,\"error\":\"exited with code 3\",\"stderr\":[\"stderr line 10\"",
            File.ReadAllText(new RunFolder(run).JournalFile));
    }

    [Fact]
    public void With_policy_retry_the_run_stops_when_the_last_try_fails_too()
    {
        var e = Assert.Throws<EvoMergeException>(() => Evolve(Config($"{{ {Scorer("crash")}, retries: 2 }}")));
        Assert.EndsWith("exited with code 3 (try 3 of 3); the last 20 line(s) of its stderr:", e.Message.Split('\n')[0]);
        AssertScratchEmpty();
    }

    [Fact]
    public void With_policy_skip_a_failed_candidate_gets_the_skip_score_and_the_search_goes_on()
    {
        // The scorer crashes on models whose weights are above 1.5: those candidates, and source b (2 everywhere), are skipped.
        var (_, run) = Evolve(Config($"{{ {Scorer("above", "1.5")}, policy: skip, skip_score: -10 }}", $"{{ {Scorer("above", "1.5")}, policy: skip, skip_score: -7 }}"));
        var entries = Journal(run);
        var search = entries.Where(e => e.Kind == EntryKinds.Search).ToList();
        Assert.Equal(12, search.Count);
        var (above, below) = (search.Where(e => Merged(e.Candidate) > 1.5).ToList(), search.Where(e => Merged(e.Candidate) <= 1.5).ToList());
        Assert.NotEmpty(above);
        Assert.NotEmpty(below);
        foreach (var e in above)
        {
            Assert.Equal(-10, e.Scores[0]);
            var failure = Assert.Single(e.Failures!);
            Assert.True(failure.Skipped);
            Assert.Equal("stderr line 29", failure.Stderr[^1]);
            Assert.Empty(e.Items![0].Items);
        }
        foreach (var e in below)
        {
            Assert.Equal(ConstantModels.ScoreOf(Merged(e.Candidate)), e.Scores[0], 5);
            Assert.Null(e.Failures);
        }
        var test = entries.Where(e => e.Kind == EntryKinds.Test).ToList();
        Assert.Equal(ConstantModels.ScoreOf(1), test[0].Scores[0], 6);
        Assert.Equal(-7, test[1].Scores[0]);   // source b holds 2 everywhere
        Assert.True(test[1].Failures![0].Skipped);
        AssertScratchEmpty();
    }

    [Theory]
    [InlineData("malformed", "wrote malformed JSON to ")]
    [InlineData("silent", "wrote no scores to ")]
    public void A_scorer_that_writes_no_usable_scores_is_reported(string mode, string message)
    {
        var e = Assert.Throws<EvoMergeException>(() => Evolve(Config($"{{ {Scorer(mode)} }}")));
        Assert.Contains(message + _scratch, e.Message);
        Assert.EndsWith("; it wrote nothing to stderr", e.Message);
        AssertScratchEmpty();
    }

    [Fact]
    public void A_hung_scorer_is_killed_at_its_timeout_and_reported()
    {
        string pids = Path.Combine(_dir, "pids");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var e = Assert.Throws<EvoMergeException>(() => Evolve(Config($"{{ {Scorer("hang", pids)}, timeout: 1.5 }}")));
        Assert.Equal($"fitness command 'python3 {ConstantModels.Scorer} hang {{model}} {{out}} {pids}' did not finish within 1.5 s; " +
            "it and every process it started were killed; it wrote nothing to stderr", e.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60));
        foreach (int pid in File.ReadAllText(pids).Split(' ').Select(int.Parse))
            Assert.True(EvoMerge.Tests.Evaluation.External.ScorerProcessTests.Gone(pid), $"process {pid} still runs");
        AssertScratchEmpty();
    }
}
