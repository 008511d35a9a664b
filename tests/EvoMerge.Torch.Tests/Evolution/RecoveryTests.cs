using EvoMerge.Candidates;
using EvoMerge.Evolution;
using EvoMerge.TestSupport;
using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.Output;
using EvoMerge.Evolution.Run;
using EvoMerge.Evolution.Spaces;
using EvoMerge.Torch.Evolution;
using EvoMerge.Torch.Model;
using EvoMerge.Torch.Runtime;
using EvoMerge.Evaluation;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Tests.Evolution;

/// <summary>
/// The engine, end to end on real merges and real forwards, finds a model it was not told about: a target is
/// built from the experts outside the engine, stories are sampled from it, and the fitness is their log-likelihood
/// per token, which in expectation is highest exactly at the target's distribution.
/// </summary>
public class RecoveryTests(StoriesExperts experts) : IClassFixture<StoriesExperts>
{
    static TorchEvaluatorOptions Exact(IReadOnlyList<ContinuationRequest> stories) =>
        new(Threads: 1, DType: ScalarType.Float32, BatchSize: 8, TaskFactory: _ => new StoryLikelihoodTask(stories));

    EvolutionConfig Config(string name, SearchSpaceKind space) => new()
    {
        Name = name,
        Seed = 0,
        BaseModel = experts.Base,
        Models = space == SearchSpaceKind.Ps ? [experts.A, experts.B] : [experts.Base, experts.Reversed],
        Space = space,
        Ps = new PsConfig { Method = "task_arithmetic", Parameters = ["weight"] },
        Dfs = new DfsConfig { Repeats = 1, Scales = DfsScales.None },
        // Indicators are thresholds, so the DFS fitness is a plateau landscape: it needs a larger population.
        Optimizer = new OptimizerConfig { Population = space == SearchSpaceKind.Ps ? 6 : 16, Generations = space == SearchSpaceKind.Ps ? 16 : 25 },
        Fitness = [new TaskConfig { Task = "jsonl", Data = "stories sampled from the target" }],
        BaseDirectory = experts.Root,
    };

    [SharedDataFact(StoriesExperts.Checkpoint)]
    public void Ps_evolution_recovers_the_task_arithmetic_weights_of_a_target()
    {
        string target = Path.Combine(experts.Root, "target-ps");
        experts.WriteTaskArithmetic(target, (experts.A, 0.7), (experts.B, 0.3));
        var stories = StoriesExperts.SampleStories(target, tokens: 64);

        var config = Config("ps-recovery", SearchSpaceKind.Ps);
        string runDir = Path.Combine(experts.Root, "run-ps");
        using var evaluator = new TorchCandidateEvaluator(Exact(stories));
        var result = EvolutionRunner.Run(config, evaluator, runDir);

        var recipe = ((MergeBuild)result.Best).Recipe;
        double a = recipe.Value(0, 0, "weight"), b = recipe.Value(0, 1, "weight");
        Assert.True(Math.Abs(a - 0.7) < 0.05 && Math.Abs(b - 0.3) < 0.05, $"recovered weights ({a:0.000}, {b:0.000}), expected (0.7, 0.3) ± 0.05");
        // The written best model is the merge that was scored: the same perplexity through a fresh load.
        var stage = Assert.Single(result.Summary.Stages);
        Assert.True(stage.BuildSecondsPerCandidate > 0 && stage.ScoreSecondsPerCandidate > 0);
        using var written = new TorchCandidateEvaluator(Exact(stories));
        var rescored = written.EvaluateOne(new SourceBuild(new RunFolder(runDir).BestModel), TaskSpecs.Work(config.Fitness, null, config));
        Assert.Equal(result.BestFitness, rescored.Scores[0], 3);
    }

    [SharedDataFact(StoriesExperts.Checkpoint)]
    public void Dfs_evolution_recovers_a_known_layer_path()
    {
        // Model A is the base, B the base with its 5 layers reversed (B's layer l is the base's 4 − l). The target
        // runs the base's layers 0, 3, 1, 4: A's fixed first layer, B's layers 1 and 3, A's fixed last layer.
        // (A's layer 3 then B's layer 3 is the same function, so the test compares base layer sequences.)
        var path = new LayerPath([experts.Base, experts.Reversed], [new(0, 0, 1), new(1, 1, 1), new(1, 3, 1), new(0, 4, 1)]);
        string target = Path.Combine(experts.Root, "target-dfs");
        LayerStackWriter.Write(path, target);
        var stories = StoriesExperts.SampleStories(target, tokens: 64);

        var config = Config("dfs-recovery", SearchSpaceKind.Dfs);
        using var evaluator = new TorchCandidateEvaluator(Exact(stories));
        var result = EvolutionRunner.Run(config, evaluator, Path.Combine(experts.Root, "run-dfs"), new RunOptions(WriteModel: false));

        static int[] BaseLayers(LayerPath p) => p.Steps.Select(s => s.Model == 0 ? s.Layer : 4 - s.Layer).ToArray();
        Assert.Equal([0, 3, 1, 4], BaseLayers(((PathBuild)result.Best).Path));
    }

    [SharedDataFact(StoriesExperts.Checkpoint)]
    public void A_scaled_path_written_as_a_layer_stack_computes_what_the_layer_path_runtime_computes()
    {
        // Scales everywhere, the first one included: stories260K ties its head, so the writer must untie it.
        var path = new LayerPath([experts.A, experts.B], [new(0, 0, 0.8), new(1, 1, 1.3), new(1, 1, 0.6), new(0, 2, 1.1), new(0, 4, 1)]);
        string stacked = Path.Combine(experts.Root, "stacked");
        LayerStackWriter.Write(path, stacked);

        using var a = LoadedModel.Load(experts.A);
        using var b = LoadedModel.Load(experts.B);
        using var plain = LoadedModel.Load(stacked);
        var runtime = new LayerPathModel([a.Model, b.Model], 0, path.Steps);
        using var scope = NewDisposeScope();
        var ids = tensor(new long[] { 1, 403, 261, 29, 300, 7, 88, 412, 9, 5 }).unsqueeze(0);
        var expected = runtime.Forward(ids);
        var actual = plain.Model.Forward(ids);
        Assert.True(allclose(expected, actual, rtol: 1e-4, atol: 1e-4),
            $"max |difference| {(expected - actual).abs().max().item<float>()}");
    }
}
