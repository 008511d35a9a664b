using EvoMerge.Candidates;
using System.Text.Json;
using EvoMerge.Evolution;
using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.Run;
using EvoMerge.Evolution.Spaces;

namespace EvoMerge.Tests.Evolution;

public class EvolutionRunnerTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("evo-run-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static EvolutionConfig PsConfig(int generations = 6, int? minibatch = 10) => new()
    {
        Name = "fake",
        Seed = 1,
        BaseModel = "/m/base",
        Models = ["/m/a", "/m/b"],
        Ps = new PsConfig { Method = "task_arithmetic", Parameters = ["weight"] },
        Optimizer = new OptimizerConfig { Population = 6, Generations = generations },
        Fitness = [new TaskConfig { Task = "jsonl", Data = "dev.jsonl", Minibatch = minibatch }],
        Test = [new TaskConfig { Task = "jsonl", Data = "test.jsonl" }],
    };

    string RunDir(string name) => Path.Combine(_dir, name);

    [Fact]
    public void A_run_folder_inside_a_model_it_reads_is_refused_before_anything_is_written()
    {
        // Issue 10 item 2 for evolve: --run-dir inside an input model would write journals and models into it.
        Directory.CreateDirectory(RunDir("models/a"));
        var config = PsConfig() with { BaseModel = null, Models = [RunDir("models/a"), "/m/b"] };
        var e = Assert.Throws<EvoMergeException>(() => EvolutionRunner.Run(config, new FakeEvaluator(), RunDir("models/a/run")));
        Assert.Contains("is inside the input", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(RunDir("models/a")));
    }

    [Fact]
    public void The_loop_finds_a_known_optimum_and_leaves_a_complete_run_folder()
    {
        var result = EvolutionRunner.Run(PsConfig(generations: 25, minibatch: null), new FakeEvaluator(), RunDir("run"));

        var recipe = ((MergeBuild)result.Best).Recipe;
        Assert.Equal(0.7, recipe.Value(0, 0, "weight"), 0.05);
        Assert.Equal(0.3, recipe.Value(0, 1, "weight"), 0.05);

        var folder = new RunFolder(RunDir("run"));
        Assert.True(File.Exists(folder.ConfigFile));
        Assert.True(File.Exists(folder.OptimizerSnapshot("ps", 0)));
        Assert.True(File.Exists(folder.OptimizerSnapshot("ps", 24)));
        Assert.Contains("merge_method: task_arithmetic", File.ReadAllText(folder.BestRecipe("ps")));
        Assert.True(File.Exists(Path.Combine(folder.BestModel, "candidate.txt")));
        var journal = Journal.Read(folder.JournalFile);
        Assert.Equal(25 * 6 + 3, journal.Count);   // every candidate, then the test split on 2 sources + the best

        var summary = RunJson.ReadFile<EvolutionSummary>(folder.SummaryFile);
        Assert.Equal(["source: /m/a", "source: /m/b", "best ps"], summary.Models.Select(m => m.Label));
        Assert.Equal(0.25, summary.Models[0].TestScores["jsonl"]);
        Assert.Equal(result.BestFitness, summary.Models[2].TestScores["jsonl"]);   // the fake's test score = its dev score
        var stage = Assert.Single(summary.Stages);
        Assert.Equal((25, 150), (stage.Generations, stage.Evaluations));
        Assert.Equal(0.1, stage.OverheadRatio, 9);   // the fake reports 1 ms build per 10 ms scoring
    }

    [Fact]
    public void Naive_baselines_are_scored_on_the_test_split_next_to_the_sources()
    {
        var config = PsConfig(generations: 1) with
        {
            Ps = new PsConfig { Method = "task_arithmetic", Parameters = ["weight"], Baselines = [new Dictionary<string, double> { ["weight"] = 0.5 }] },
        };
        var summary = EvolutionRunner.Run(config, new FakeEvaluator(), RunDir("run")).Summary;
        var row = summary.Models[2];
        Assert.Equal(("baseline: task_arithmetic weight 0.5", "baseline"), (row.Label, row.Kind));
        Assert.Equal(1 - 0.2 * 0.2 - 0.2 * 0.2, row.TestScores["jsonl"], 12);   // the fake's score at (0.5, 0.5)
    }

    [Fact]
    public void Minibatch_generations_rescore_their_best_on_the_full_dev_set()
    {
        var evaluator = new FakeEvaluator();
        var result = EvolutionRunner.Run(PsConfig(generations: 3) with { RescoreTop = 2 }, evaluator, RunDir("run"));
        var journal = Journal.Read(new RunFolder(RunDir("run")).JournalFile);
        var rescores = journal.Where(e => e.Kind == EntryKinds.Rescore).ToList();
        Assert.Equal(3 * 2, rescores.Count);
        Assert.All(rescores, e => Assert.Null(e.MinibatchSeed));
        Assert.Equal(3, journal.Where(e => e.Kind == EntryKinds.Search).Select(e => e.MinibatchSeed).Distinct().Count());
        Assert.Equal(rescores.Max(e => e.Fitness), result.BestFitness);   // the best is chosen on the full dev set
    }

    [Fact]
    public void Identical_candidates_are_evaluated_once()
    {
        // DFS without scales: the genome only matters through which slots are on, so paths repeat often.
        var config = PsConfig(generations: 10, minibatch: null) with
        {
            Space = SearchSpaceKind.Dfs,
            Dfs = new DfsConfig { Repeats = 1, Scales = DfsScales.None },
            Optimizer = new OptimizerConfig { Population = 8, Generations = 10 },
            Test = [],
        };
        var evaluator = new FakeEvaluator();
        EvolutionRunner.Run(config, evaluator, RunDir("run"));
        var search = Journal.Read(new RunFolder(RunDir("run")).JournalFile).Where(e => e.Kind == EntryKinds.Search).ToList();

        // The two sources' own paths (anchors) are scored first; a search candidate equal to one is a cache hit.
        var anchors = Journal.Read(new RunFolder(RunDir("run")).JournalFile).Where(e => e.Kind == EntryKinds.Anchor).ToList();
        int distinct = search.Concat(anchors).Select(e => JsonSerializer.Serialize(e.Candidate, RunJson.Options)).Distinct().Count();
        Assert.Equal(80, search.Count);
        Assert.Equal(2, anchors.Count);
        Assert.Equal(distinct, evaluator.Calls);
        Assert.True(evaluator.Calls < 80, $"{evaluator.Calls} evaluations for {distinct} distinct paths");
        Assert.Equal(80 + 2 - distinct, search.Count(e => e.Cached));
    }

    [Fact]
    public void Dfs_scores_each_sources_own_path_first_and_never_reports_a_worse_one()
    {
        // The fake rewards the path A0 B1 B2 A3 and charges 0.5 per step: model A's own path A0 A1 A2 A3 scores
        // 2 − 2 = 0, model B's A0 B0 B1 B2 B3 A3 scores 4 − 3 = 1. One short generation cannot beat B's by chance.
        var config = PsConfig(generations: 1, minibatch: 10) with
        {
            Space = SearchSpaceKind.Dfs,
            Dfs = new DfsConfig { Repeats = 2, Scales = DfsScales.PerSlot },
            Optimizer = new OptimizerConfig { Population = 4, Generations = 1 },
            Test = [],
        };
        var result = EvolutionRunner.Run(config, new FakeEvaluator(), RunDir("run"));
        var journal = Journal.Read(new RunFolder(RunDir("run")).JournalFile).ToList();
        var anchors = journal.Where(e => e.Kind == EntryKinds.Anchor).ToList();
        Assert.Equal([0.0, 1.0], anchors.Select(e => e.Fitness));
        Assert.All(anchors, e => Assert.Null(e.MinibatchSeed));
        Assert.Equal([(0, 0), (1, 0), (1, 1), (1, 2), (1, 3), (0, 3)], ((PathBuild)anchors[1].Candidate).Path.Steps.Select(s => (s.Model, s.Layer)));
        Assert.True(journal.IndexOf(anchors[1]) < journal.FindIndex(e => e.Kind == EntryKinds.Search));
        Assert.True(result.BestFitness >= 1, $"best {result.BestFitness} is worse than model B's own path (1)");
    }

    [Fact]
    public void Ps_then_dfs_makes_the_ps_result_model_A_of_the_path_search()
    {
        var config = PsConfig(generations: 3) with { Space = SearchSpaceKind.PsThenDfs, Dfs = new DfsConfig { Repeats = 1 } };
        var result = EvolutionRunner.Run(config, new FakeEvaluator(), RunDir("run"));
        var folder = new RunFolder(RunDir("run"));
        var path = Assert.IsType<PathBuild>(result.Best).Path;
        Assert.Equal([folder.StageModel("ps"), "/m/a", "/m/b"], path.Models);
        Assert.True(File.Exists(Path.Combine(folder.StageModel("ps"), "candidate.txt")));
        Assert.True(File.Exists(folder.BestPath("dfs")));
        var summary = RunJson.ReadFile<EvolutionSummary>(folder.SummaryFile);
        Assert.Equal(["ps", "dfs"], summary.Stages.Select(s => s.Stage));
        Assert.Equal(["source: /m/a", "source: /m/b", "best ps", "best dfs"], summary.Models.Select(m => m.Label));
    }

    [Fact]
    public void Nsga_ii_returns_the_pareto_front_of_two_conflicting_tasks()
    {
        // One task is best at w₀ = 0.2, the other at w₀ = 0.7: every w₀ in between is a trade-off, none outside.
        var config = PsConfig(generations: 15, minibatch: null) with
        {
            Optimizer = new OptimizerConfig { Name = "nsga-ii", Population = 12, Generations = 15 },
            Fitness = [new TaskConfig { Task = "jsonl", Data = "pull-0.2" }, new TaskConfig { Task = "jsonl", Data = "pull-0.7" }],
            Test = [],
        };
        var result = EvolutionRunner.Run(config, new FakeEvaluator(), RunDir("run"));
        var front = Assert.Single(result.Summary.Stages).ParetoFront;
        var w0 = front.Select(p => p.Genome[0]).ToList();   // weight range [0, 1]: the coordinate is the weight
        Assert.True(front.Count >= 5, $"{front.Count} points on the front");
        Assert.All(w0, w => Assert.InRange(w, 0.19, 0.71));
        Assert.True(w0.Min() < 0.3 && w0.Max() > 0.6, $"front spans [{w0.Min():0.00}, {w0.Max():0.00}]");
        Assert.All(front, p => Assert.Equal(1 - Math.Pow(p.Genome[0] - 0.2, 2), p.Scores[0], 9));
    }

    [Fact]
    public void A_multi_objective_optimiser_needs_several_fitness_tasks()
    {
        var e = Assert.Throws<EvoMergeException>(() => EvolutionRunner.Run(
            PsConfig() with { Optimizer = new OptimizerConfig { Name = "nsga-ii", Generations = 1 } }, new FakeEvaluator(), RunDir("run")));
        Assert.Contains("nsga-ii optimises one objective per fitness entry", e.Message);
    }

    [Fact]
    public void A_used_run_folder_is_only_continued_with_resume_and_the_same_config()
    {
        EvolutionRunner.Run(PsConfig(generations: 1), new FakeEvaluator(), RunDir("run"));
        var again = Assert.Throws<EvoMergeException>(() => EvolutionRunner.Run(PsConfig(generations: 1), new FakeEvaluator(), RunDir("run")));
        Assert.Contains("already holds a run; pass --resume", again.Message);
        var changed = Assert.Throws<EvoMergeException>(() =>
            EvolutionRunner.Run(PsConfig(generations: 2), new FakeEvaluator(), RunDir("run"), new RunOptions(Resume: true)));
        Assert.Contains("different config", changed.Message);
    }
}
