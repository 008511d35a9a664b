using EvoMerge.Candidates;
using EvoMerge.Evaluation;
using EvoMerge.Evolution;
using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.M2n2;
using EvoMerge.Evolution.Output;
using EvoMerge.Evolution.Run;
using EvoMerge.Merge.Recipes;
using EvoMerge.TestSupport;
using EvoMerge.Torch.Evolution;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Tests.Evolution;

/// <summary>M2N2 on real models: blends built in the resident model, written as folders, and a short search.</summary>
public class M2n2TorchTests(StoriesExperts experts) : IClassFixture<StoriesExperts>
{
    /// <summary>Log-likelihood of each story (one item each), so fitness sharing has items to share.</summary>
    sealed class StoryItems(IReadOnlyList<ContinuationRequest> stories) : IEvalTask
    {
        public string Name => "stories";
        public int Count => stories.Count;

        public EvalResult Evaluate(ILanguageModel model, Subset? subset = null, EvalRunOptions? run = null)
        {
            var chosen = (subset ?? Subset.All).Resolve(stories.Count);
            var scores = model.ScoreContinuations(chosen.Select(i => stories[i]).ToList());
            var items = chosen.Select((index, k) => new ItemResult(index, "", "", null, "", false,
                LogLikelihood: scores[k].LogLikelihood, TokenCount: scores[k].TokenCount)).ToList();
            return new EvalResult(Name, items, [new Metric("log_likelihood_per_token", scores.Sum(s => s.LogLikelihood) / scores.Sum(s => s.TokenCount))]);
        }
    }

    static TorchEvaluatorOptions Exact(IReadOnlyList<ContinuationRequest> stories) =>
        new(Threads: 1, DType: ScalarType.Float32, BatchSize: 8, TaskFactory: _ => new StoryItems(stories));

    EvolutionConfig Config(string name, int budget) => new()
    {
        Name = name,
        Seed = 1,
        Models = [experts.A, experts.B],
        Optimizer = new OptimizerConfig { Name = "m2n2", MaxEvaluations = budget, M2n2 = new M2n2Config { ArchiveSize = 6 } },
        Fitness = [new TaskConfig { Task = "perplexity", Data = "stories" }],
        BaseDirectory = experts.Root,
    };

    [SharedDataFact(StoriesExperts.Checkpoint)]
    public void A_blend_scored_in_memory_is_the_model_its_writer_writes()
    {
        var stories = StoriesExperts.SampleStories(experts.A, tokens: 32);
        var config = Config("blend", 1);
        var work = TaskSpecs.Work(config.Fitness, null, config);
        using var evaluator = new TorchCandidateEvaluator(Exact(stories));
        // Coefficients that change inside the model: a child of a split-point crossover.
        var blend = new BlendRecipe([experts.A, experts.B], [new(0, [0.8, 0.3]), new(20_000, [0.1, 0.95]), new(50_000, [0.6, 0.45])]);
        double inMemory = evaluator.EvaluateOne(new BlendBuild(blend), work).Scores[0];
        string written = Path.Combine(experts.Root, "blend-written");
        BlendModelWriter.Write(blend, written, "float32");
        Assert.Equal(inMemory, evaluator.EvaluateOne(new SourceBuild(written), work).Scores[0], 5);

        double a = evaluator.EvaluateOne(new SourceBuild(experts.A), work).Scores[0];
        Assert.Equal(a, evaluator.EvaluateOne(new BlendBuild(BlendRecipe.Source([experts.A, experts.B], 0)), work).Scores[0], 5);
        Assert.NotEqual(a, inMemory, 3);
    }

    [SharedDataFact(StoriesExperts.Checkpoint)]
    public void A_short_search_beats_both_sources_on_a_target_between_them()
    {
        string target = Path.Combine(experts.Root, "target-m2n2");
        experts.WriteTaskArithmetic(target, (experts.A, 0.5), (experts.B, 0.5));   // ½A + ½B
        var stories = StoriesExperts.SampleStories(target, tokens: 48);
        var config = Config("m2n2-search", 16);
        string runDir = Path.Combine(experts.Root, "run-m2n2");
        using var evaluator = new TorchCandidateEvaluator(Exact(stories));
        var result = EvolutionRunner.Run(config, evaluator, runDir);

        var journal = Journal.Read(new RunFolder(runDir).JournalFile);
        double sources = journal.Where(e => e.Generation < 2).Max(e => e.Fitness);
        Assert.True(result.BestFitness > sources + 0.01, $"best {result.BestFitness:F4}, best source {sources:F4}");
        Assert.IsType<BlendBuild>(result.Best);
        // The best model folder is the blend that was scored.
        using var written = new TorchCandidateEvaluator(Exact(stories));
        var rescored = written.EvaluateOne(new SourceBuild(new RunFolder(runDir).BestModel), TaskSpecs.Work(config.Fitness, null, config));
        Assert.Equal(result.BestFitness, rescored.Scores[0], 3);
    }

    [SharedDataFact(StoriesExperts.Checkpoint)]
    public void Evolve_with_m2n2_from_the_cli_then_report()
    {
        string dir = Path.Combine(experts.Root, "cli-m2n2");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "story.txt"), "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.\n");
        File.WriteAllText(Path.Combine(dir, "evolve.yml"), $"""
            name: cli-m2n2
            seed: 2
            models: [{experts.A}, {experts.B}]
            optimizer: {"{"} name: m2n2, max_evaluations: 6, archive_size: 4, split_points: tensor {"}"}
            fitness:
              - {"{"} task: perplexity, data: story.txt, window_chars: 40, context_chars: 20 {"}"}
            test:
              - {"{"} task: perplexity, data: story.txt {"}"}
            """);
        string run = Path.Combine(dir, "run");
        Assert.Equal(0, EvoMerge.Cli.CliApp.Run(["evolve", Path.Combine(dir, "evolve.yml"), "--run-dir", run, "--threads", "1", "--dtype", "f32"]));
        var folder = new RunFolder(run);
        var summary = RunJson.ReadFile<EvolutionSummary>(folder.SummaryFile);
        Assert.Equal(6, Assert.Single(summary.Stages).Evaluations);
        Assert.True(File.Exists(folder.BestBlend("ps")));
        Assert.True(File.Exists(Path.Combine(run, "ps", "m2n2-report.md")));
        Assert.True(File.Exists(Path.Combine(folder.BestModel, "blend.json")));
        // Several windows of the story are the items the archive shares.
        Assert.True(Journal.Read(folder.JournalFile).First().Items![0].Items.Length > 1);

        Assert.Equal(0, EvoMerge.Cli.CliApp.Run(["report", run]));
        string page = File.ReadAllText(Path.Combine(run, "report", "index.html"));
        Assert.Contains("Comparison on the test split", page);
        // The M2N2 pictures: coverage by tell, the best child's family tree, its ancestry's split points.
        foreach (string chart in new[] { "ps-m2n2-coverage.png", "ps-m2n2-family.png", "ps-m2n2-splits.png" })
        {
            Assert.Contains($"src=\"{chart}\"", page);
            Assert.True(new FileInfo(Path.Combine(run, "report", chart)).Length > 1000, chart);
        }
    }
}
