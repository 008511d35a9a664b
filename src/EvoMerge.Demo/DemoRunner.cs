using System.Diagnostics;
using EvoMerge.Anatomy;
using EvoMerge.Candidates;
using EvoMerge.Evolution;
using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.Run;
using EvoMerge.Evolution.Spaces;
using EvoMerge.IO;
using EvoMerge.Merge.Recipes;
using EvoMerge.Torch.Evolution;
using static TorchSharp.torch;

namespace EvoMerge.Demo;

/// <summary>What the demo is doing now: a phase name, and the evolution engine's snapshot while searching.</summary>
public readonly record struct DemoProgress(string Phase, string Message, EvolutionProgress? Search = null);

/// <param name="ModelsFolder">Holds <c>base/</c>, <c>ja/</c> (model A) and <c>math/</c> (model B).</param>
/// <param name="OutputFolder">Receives <c>data/</c>, one run folder per search, and <c>summary.json</c>.</param>
/// <param name="Threads">Torch threads; 1 is fastest for these tiny models on a busy machine (bench demo-eval).</param>
public sealed record DemoOptions(string ModelsFolder, string OutputFolder, int Seed = 0, bool Quick = false, int Threads = 1);

/// <summary>
/// The miniature EvoLLM-JP, end to end: scores the two sources, the plain average, the best task-arithmetic grid
/// point (chosen on dev), default DARE-TIES, then evolves PS, DFS and PS→DFS with the evolution engine. Fitness is
/// Japanese-math strict accuracy on the dev split; every number in the table is measured on the test splits.
/// </summary>
public sealed class DemoRunner
{
    readonly DemoOptions _options;
    readonly DemoPlan _plan;
    readonly IProgress<DemoProgress>? _progress;
    readonly CancellationToken _cancellation;
    readonly string _output, _base, _a, _b;
    readonly IReadOnlyList<TaskConfig> _dev, _test;
    readonly TorchEvaluatorOptions _evaluatorOptions;
    readonly List<string> _runFolders = [];

    public static DemoSummary Run(DemoOptions options, IProgress<DemoProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var demo = new DemoRunner(options, progress, cancellationToken);

        // The grid first: the PS search starts from its best point. The paper's start, the middle of every range
        // (0.75·τ_A + 0.75·τ_B with half the entries dropped), scores about zero here, a plateau CMA-ES cannot climb from.
        var (grid, gridBest) = demo.TaskArithmeticGrid();
        var (devA, devB) = (demo.DevScore(demo._a), demo.DevScore(demo._b));
        // The paper's hybrid: its PS stage gives the "evolved PS" row, its DFS stage "evolved PS→DFS", and it scores both sources.
        var hybrid = demo.Evolve("evolved-ps-dfs", SearchSpaceKind.PsThenDfs, dfsModels: [demo._b], start: gridBest);
        // DFS alone runs on the better source's embeddings and head (on dev), as PS→DFS runs on the PS model's: the
        // better source's own path is then that source itself, and the stage never reports a path worse on dev.
        bool bFirst = devB > devA;
        string[] dfsModels = bFirst ? [demo._b, demo._a] : [demo._a, demo._b];
        var dfs = demo.Evolve("evolved-dfs", SearchSpaceKind.Dfs, dfsModels: dfsModels, modelA: dfsModels[0]);
        var rows = new List<DemoRow>
        {
            demo.SourceRow("A", demo._a, hybrid) with { DevJaMathStrict = devA },
            demo.SourceRow("B", demo._b, hybrid) with { DevJaMathStrict = devB },
            demo.Fixed("average", "linear", ["weight"], [0.5, 0.5], "linear 0.5·A + 0.5·B"),
            grid,
            demo.Fixed("dare-ties-default", "dare_ties", ["weight", "density"], [1, 0.5, 1, 0.5], "dare_ties w=1 d=0.5 for A and B"),
        };
        if (demo.JointRow() is { } joint) rows.Add(joint);
        // The evolved-from-the-grid rows count the grid's evaluations and time too.
        rows.Add(AfterGrid(demo.SearchedRow("evolved-ps", hybrid, "ps"), grid));
        var dfsRow = demo.SearchedRow("evolved-dfs", dfs, "dfs", bFirst ? ["B", "A"] : ["A", "B"]);
        rows.Add(dfsRow);
        rows.Add(demo.UnscaledRow(dfs, dfsRow));
        rows.Add(AfterGrid(demo.SearchedRow("evolved-ps-dfs", hybrid, "dfs"), grid));
        var summary = new DemoSummary(rows, options.Seed, options.Quick, clock.Elapsed.TotalSeconds, demo._runFolders);
        summary.Write(demo._output);
        return summary;
    }

    /// <summary>Checks the models and the output folder, and writes the miniature world's data splits.</summary>
    DemoRunner(DemoOptions options, IProgress<DemoProgress>? progress, CancellationToken cancellation)
    {
        _options = options;
        _plan = options.Quick ? DemoPlan.Quick : DemoPlan.Full;
        _progress = progress;
        _cancellation = cancellation;
        // New or empty, and neither inside nor around the models it reads (choose another with --out).
        _output = OutputPath.Check(options.OutputFolder, [options.ModelsFolder], folder: true);
        (_base, _a, _b) = (Model(DemoModelShape.BaseFolder), Model(DemoModelShape.JapaneseFolder), Model(DemoModelShape.MathFolder));
        string data = Path.Combine(_output, "data");
        DemoTasks.WriteData(new MiniatureWorld().Splits, data);
        _evaluatorOptions = new TorchEvaluatorOptions(options.Threads, ScalarType.Float32, BatchSize: 256);
        _dev = [DemoTasks.Fitness(data)];
        _test = DemoTasks.Test(data).Select(t => t with { Limit = _plan.TestLimit }).ToList();
    }

    string Model(string folder)
    {
        string path = Path.GetFullPath(Path.Combine(_options.ModelsFolder, folder));
        return File.Exists(Path.Combine(path, "config.json")) ? path
            : throw new EvoMergeException($"{path}: no demo model here (expected config.json); run 'evomerge demo train' or pass --models");
    }

    /// <summary>Scores every point of the task-arithmetic grid on dev; the best one is scored on test.</summary>
    (DemoRow Row, (double WA, double WB) Best) TaskArithmeticGrid()
    {
        var watch = Stopwatch.StartNew();
        var config = Config("task-arithmetic-grid", SearchSpaceKind.Ps, "task_arithmetic", []);
        using var evaluator = new TorchCandidateEvaluator(_evaluatorOptions);
        (double Score, double WA, double WB) best = (-1, 0, 0);
        int point = 0, points = _plan.GridWeights.Count * _plan.GridWeights.Count;
        foreach (double wa in _plan.GridWeights)
            foreach (double wb in _plan.GridWeights)
            {
                _progress?.Report(new DemoProgress("task-arithmetic grid", $"point {++point}/{points}: w_A={wa} w_B={wb}"));
                double s = evaluator.EvaluateOne(Uniform(config, ["weight"], [wa, wb]), TaskSpecs.Work(_dev, null, config), _cancellation).Scores[0];
                if (s > best.Score) best = (s, wa, wb);
            }
        var row = Fixed("task-arithmetic-best", "task_arithmetic", ["weight"], [best.WA, best.WB],
            $"task arithmetic w_A={best.WA} w_B={best.WB} (best of {points} on dev)", points, watch.Elapsed.TotalSeconds, best.Score);
        return (row, (best.WA, best.WB));
    }

    /// <summary>A whole-model recipe scored on test: one value per model and parameter (<paramref name="values"/>: A's, then B's).</summary>
    DemoRow Fixed(string name, string method, IReadOnlyList<string> parameters, IReadOnlyList<double> values, string recipe,
        int evaluations = 0, double searchSeconds = 0, double? devScore = null)
    {
        var config = Config(name, SearchSpaceKind.Ps, method, []);
        return Tested(name, Uniform(config, parameters, values), recipe, evaluations, searchSeconds, devScore);
    }

    /// <summary>A build scored on the test splits, with its per-item JA-math-strict scores (the bootstraps' input).</summary>
    DemoRow Tested(string name, ModelBuild build, string recipe, int evaluations = 0, double searchSeconds = 0, double? devScore = null)
    {
        _progress?.Report(new DemoProgress(name, "scoring on the test splits"));
        var config = Config(name, SearchSpaceKind.Ps, "linear", []);
        using var evaluator = new TorchCandidateEvaluator(_evaluatorOptions);
        var r = evaluator.EvaluateOne(build, TaskSpecs.Work(_test, null, config), _cancellation);
        return new DemoRow(name, r.Tasks[0].Score, r.Tasks[1].Score, r.Tasks[2].Score, r.Tasks[3].Score, evaluations,
            searchSeconds + r.BuildSeconds + r.ScoreSeconds, devScore, recipe, r.Tasks[0].ItemScores);
    }

    /// <summary>A build's strict JA-math score on all of dev, what every choice of the demo is made on.</summary>
    double DevScore(ModelBuild build)
    {
        var config = Config("dev", SearchSpaceKind.Ps, "linear", []);
        using var evaluator = new TorchCandidateEvaluator(_evaluatorOptions);
        return evaluator.EvaluateOne(build, TaskSpecs.Work(_dev, null, config), _cancellation).Scores[0];
    }

    double DevScore(string model)
    {
        _progress?.Report(new DemoProgress("sources", $"scoring {Path.GetFileName(model)} on dev"));
        return DevScore(new SourceBuild(model));
    }

    /// <summary>
    /// The paper's fine-tuning baseline: the base fine-tuned on both sources' training data (<c>joint/</c>, written
    /// by <c>demo train</c>); no row for model folders trained before it existed.
    /// </summary>
    DemoRow? JointRow()
    {
        string path = Path.GetFullPath(Path.Combine(_options.ModelsFolder, DemoModelShape.JointFolder));
        if (!File.Exists(Path.Combine(path, "config.json"))) return null;
        return Tested("joint-fine-tune", new SourceBuild(path), "base fine-tuned on A's and B's training data together");
    }

    /// <summary>
    /// The DFS winner's path with every scale set to 1: what the evolved scales add (the paper: they matter). Scored on
    /// dev too, so the dev column shows whether the search's choice of scales held.
    /// </summary>
    DemoRow UnscaledRow((EvolutionConfig Config, EvolutionResult Result) run, DemoRow scaled)
    {
        var path = ((PathBuild)run.Result.Best).Path;
        var plain = new PathBuild(path with { Steps = path.Steps.Select(s => s with { Scale = 1 }).ToList() });
        return Tested("evolved-dfs-scales-1", plain, "the evolved-dfs path with every scale 1", devScore: DevScore(plain));
    }

    /// <summary>One recipe for the whole model: a single tensor group with one value per model and parameter.</summary>
    MergeBuild Uniform(EvolutionConfig config, IReadOnlyList<string> parameters, IReadOnlyList<double> values) =>
        new(new GroupedRecipe(config.Ps.Method, config.BaseModel, [_a, _b], parameters,
            [new TensorGroup("all", 0, DemoModelShape.Layers - 1, [GroupPart.Embeddings, GroupPart.Attention, GroupPart.Mlp, GroupPart.Head])],
            [[values.Take(parameters.Count).ToList(), values.Skip(parameters.Count).ToList()]]), config.Ps.Globals, config.MergeSeed);

    /// <summary>An evolution run with the engine <c>evomerge evolve</c> uses, in its own run folder.</summary>
    (EvolutionConfig Config, EvolutionResult Result) Evolve(string name, SearchSpaceKind space, IReadOnlyList<string> dfsModels,
        (double WA, double WB)? start = null, string? modelA = null)
    {
        var config = Config(name, space, "dare_ties", dfsModels, searched: true, start);
        config = config with { Dfs = config.Dfs with { ModelA = modelA } };
        string folder = Path.Combine(_output, name);
        _runFolders.Add(folder);
        using var evaluator = new TorchCandidateEvaluator(_evaluatorOptions);
        var result = EvolutionRunner.Run(config, evaluator, folder, new RunOptions(),
            new SyncProgress<EvolutionProgress>(p => _progress?.Report(new DemoProgress(name, p.Message ?? "", p))), _cancellation);
        return (config, result);
    }

    /// <summary>
    /// The evolution config of one step. Searches treat weights as free scales of the task vectors, as the paper's,
    /// whose evolved weights did not sum to 1; the fixed baselines keep the merge engine's (mergekit's) defaults.
    /// </summary>
    EvolutionConfig Config(string name, SearchSpaceKind space, string method, IReadOnlyList<string> dfsModels,
        bool searched = false, (double WA, double WB)? start = null) => new()
    {
        Name = name,
        Seed = _options.Seed,
        BaseModel = method == "linear" ? null : _base,
        Models = [_a, _b],
        Space = space,
        Ps = new PsConfig
        {
            Method = method, LayerGroups = DemoModelShape.Layers, EmbeddingsGroup = true, HeadGroup = true, Parameters = ["weight", "density"],
            // Per group, the weights the grid spans.
            Ranges = new Dictionary<string, ParameterRange> { ["weight"] = new(0, _plan.GridWeights[^1]), ["density"] = new(0.01, 1) },
            Start = start is var (wa, wb)
                ? [new Dictionary<string, double> { ["weight"] = wa, ["density"] = 1 }, new Dictionary<string, double> { ["weight"] = wb, ["density"] = 1 }]
                : null,
            Globals = searched ? new Dictionary<string, double> { ["normalize"] = 0 } : new Dictionary<string, double>(),
        },
        Dfs = new DfsConfig { Repeats = _plan.DfsRepeats, Scales = DfsScales.PerSlot, Models = dfsModels },
        Optimizer = space == SearchSpaceKind.Dfs
            ? new OptimizerConfig { Population = _plan.DfsPopulation, Generations = _plan.DfsGenerations }
            : new OptimizerConfig { Population = _plan.PsPopulation, Generations = _plan.PsGenerations },
        Fitness = _dev,
        RescoreTop = 2,
        Test = _test,
        BaseDirectory = _output,
    };

    /// <summary>A source model's row, from the test scores an evolution run measured for it.</summary>
    DemoRow SourceRow(string name, string model, (EvolutionConfig Config, EvolutionResult Result) run) =>
        Row(name, run, run.Result.Summary.Models.First(m => m.Kind == "source" && m.Label.EndsWith(model, StringComparison.Ordinal)), 0, null);

    /// <summary>A search stage's best model, with its recipe in words.</summary>
    DemoRow SearchedRow(string name, (EvolutionConfig Config, EvolutionResult Result) run, string stage, IReadOnlyList<string>? dfsNames = null)
    {
        var row = run.Result.Summary.Models.Last(m => m.Kind == stage);
        var searched = run.Result.Summary.Stages.First(s => s.Stage == stage);
        string recipe = stage == "ps"
            ? DemoRecipeText.Ps(new PsSpace(run.Config.Ps, _base, [_a, _b], DemoModelShape.Layers), searched.BestGenome!, ["A", "B"])
            : DemoRecipeText.Dfs(((PathBuild)run.Result.Best).Path, dfsNames ?? ["PS", "B"]);
        return Row(name, run, row, searched.Evaluations, recipe) with { Seconds = row.SearchSeconds + row.TestSeconds };
    }

    static DemoRow Row(string name, (EvolutionConfig Config, EvolutionResult Result) run, ModelRow row, int evaluations, string? recipe)
    {
        double Score(int k) => row.TestScores[EvolutionRunner.TaskKey(run.Config.Test, k)];
        // The per-item scores of the same test row, from the run's journal.
        var items = Journal.Read(new RunFolder(run.Result.RunDirectory).JournalFile)
            .Single(e => e.Kind == EntryKinds.Test && e.Label == row.Label).Items?[0].Scores;
        return new DemoRow(name, Score(0), Score(1), Score(2), Score(3), evaluations, row.TestSeconds, row.DevFitness, recipe, items);
    }

    static DemoRow AfterGrid(DemoRow row, DemoRow grid) =>
        row with { Evaluations = row.Evaluations + grid.Evaluations, Seconds = row.Seconds + grid.Seconds };
}
