using System.Diagnostics;
using EvoMerge.Anatomy;
using EvoMerge.Candidates;
using EvoMerge.Demo;
using EvoMerge.Merge.Recipes;
using EvoMerge.Evolution;
using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.Run;
using EvoMerge.Evolution.Spaces;
using EvoMerge.Torch.Evolution;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Demo;

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
public static class DemoRunner
{
    public static DemoSummary Run(DemoOptions options, IProgress<DemoProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var plan = options.Quick ? DemoPlan.Quick : DemoPlan.Full;
        string output = Path.GetFullPath(options.OutputFolder);
        if (Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any())
            throw new EvoMergeException($"{output}: the demo's output folder must be new or empty (choose another with --out)");
        string Model(string folder)
        {
            string path = Path.GetFullPath(Path.Combine(options.ModelsFolder, folder));
            return File.Exists(Path.Combine(path, "config.json")) ? path
                : throw new EvoMergeException($"{path}: no demo model here (expected config.json); run 'evomerge demo train' or pass --models");
        }
        string baseModel = Model(DemoModelShape.BaseFolder), a = Model(DemoModelShape.JapaneseFolder), b = Model(DemoModelShape.MathFolder);
        string data = Path.Combine(output, "data");
        DemoTasks.WriteData(new MiniatureWorld().Splits, data);
        var evaluatorOptions = new TorchEvaluatorOptions(options.Threads, ScalarType.Float32, BatchSize: 256);
        var dev = new[] { DemoTasks.Fitness(data) };
        var test = DemoTasks.Test(data).Select(t => t with { Limit = plan.TestLimit }).ToList();
        var runFolders = new List<string>();

        // The grid first: the PS search starts from its best point. The paper's start, the middle of every range
        // (0.75·τ_A + 0.75·τ_B with half the entries dropped), scores about zero here, a plateau CMA-ES cannot climb from.
        var (grid, gridBest) = GridBest();
        // The paper's hybrid: its PS stage gives the "evolved PS" row, its DFS stage "evolved PS→DFS", and it scores both sources.
        var hybrid = Evolve("evolved-ps-dfs", SearchSpaceKind.PsThenDfs, dfsModels: [b], start: gridBest);
        var rows = new List<DemoRow> { SourceRow("A", a, hybrid), SourceRow("B", b, hybrid) };

        rows.Add(Fixed("average", "linear", null, ["weight"], [0.5, 0.5], "linear 0.5·A + 0.5·B"));
        rows.Add(grid);
        rows.Add(Fixed("dare-ties-default", "dare_ties", baseModel, ["weight", "density"], [1, 0.5, 1, 0.5], "dare_ties w=1 d=0.5 for A and B"));
        // The evolved-from-the-grid rows count the grid's evaluations and time too.
        rows.Add(AfterGrid(SearchedRow("evolved-ps", hybrid, "ps")));
        rows.Add(SearchedRow("evolved-dfs", Evolve("evolved-dfs", SearchSpaceKind.Dfs, dfsModels: [a, b]), "dfs"));
        rows.Add(AfterGrid(SearchedRow("evolved-ps-dfs", hybrid, "dfs")));

        var summary = new DemoSummary(rows, options.Seed, options.Quick, clock.Elapsed.TotalSeconds, runFolders);
        summary.Write(output);
        return summary;

        DemoRow AfterGrid(DemoRow row) => row with { Evaluations = row.Evaluations + grid.Evaluations, Seconds = row.Seconds + grid.Seconds };

        // Searches treat weights as free scales of the task vectors, as the paper's, whose evolved weights did not sum
        // to 1; the fixed baselines keep the merge engine's (mergekit's) defaults.
        EvolutionConfig Config(string name, SearchSpaceKind space, string method, IReadOnlyList<string> dfsModels,
            bool searched = false, (double WA, double WB)? start = null) => new()
        {
            Name = name,
            Seed = options.Seed,
            BaseModel = method == "linear" ? null : baseModel,
            Models = [a, b],
            Space = space,
            Ps = new PsConfig
            {
                Method = method, LayerGroups = DemoModelShape.Layers, EmbeddingsGroup = true, HeadGroup = true, Parameters = ["weight", "density"],
                // Per group, the weights the grid spans.
                Ranges = new Dictionary<string, ParameterRange> { ["weight"] = new(0, plan.GridWeights[^1]), ["density"] = new(0.01, 1) },
                Start = start is var (wa, wb)
                    ? [new Dictionary<string, double> { ["weight"] = wa, ["density"] = 1 }, new Dictionary<string, double> { ["weight"] = wb, ["density"] = 1 }]
                    : null,
                Globals = searched ? new Dictionary<string, double> { ["normalize"] = 0 } : new Dictionary<string, double>(),
            },
            Dfs = new DfsConfig { Repeats = plan.DfsRepeats, Scales = DfsScales.PerSlot, Models = dfsModels },
            Optimizer = space == SearchSpaceKind.Dfs
                ? new OptimizerConfig { Population = plan.DfsPopulation, Generations = plan.DfsGenerations }
                : new OptimizerConfig { Population = plan.PsPopulation, Generations = plan.PsGenerations },
            Fitness = dev,
            RescoreTop = 2,
            Test = test,
            BaseDirectory = output,
        };

        (EvolutionConfig Config, EvolutionResult Result) Evolve(string name, SearchSpaceKind space, IReadOnlyList<string> dfsModels,
            (double WA, double WB)? start = null)
        {
            var config = Config(name, space, "dare_ties", dfsModels, searched: true, start);
            string folder = Path.Combine(output, name);
            runFolders.Add(folder);
            using var evaluator = new TorchCandidateEvaluator(evaluatorOptions);
            var result = EvolutionRunner.Run(config, evaluator, folder, new RunOptions(),
                new Reporter<EvolutionProgress>(p => progress?.Report(new DemoProgress(name, p.Message ?? "", p))), cancellationToken);
            return (config, result);
        }

        // One recipe for the whole model: a single tensor group with one value per model and parameter.
        MergeBuild Uniform(EvolutionConfig config, IReadOnlyList<string> parameters, IReadOnlyList<double> values) =>
            new(new GroupedRecipe(config.Ps.Method, config.BaseModel, [a, b], parameters,
                [new TensorGroup("all", 0, DemoModelShape.Layers - 1, [GroupPart.Embeddings, GroupPart.Attention, GroupPart.Mlp, GroupPart.Head])],
                [[values.Take(parameters.Count).ToList(), values.Skip(parameters.Count).ToList()]]), config.Ps.Globals, config.MergeSeed);

        DemoRow Fixed(string name, string method, string? baseFolder, IReadOnlyList<string> parameters, IReadOnlyList<double> values, string recipe,
            int evaluations = 0, double searchSeconds = 0, double? devScore = null)
        {
            progress?.Report(new DemoProgress(name, "scoring on the test splits"));
            var config = Config(name, SearchSpaceKind.Ps, method, []);
            using var evaluator = new TorchCandidateEvaluator(evaluatorOptions);
            var r = evaluator.EvaluateOne(Uniform(config, parameters, values), TaskSpecs.Work(test, null, config), cancellationToken);
            return new DemoRow(name, r.Scores[0], r.Scores[1], r.Scores[2], r.Scores[3], evaluations,
                searchSeconds + r.BuildSeconds + r.ScoreSeconds, devScore, recipe);
        }

        (DemoRow Row, (double WA, double WB) Best) GridBest()
        {
            var watch = Stopwatch.StartNew();
            var config = Config("task-arithmetic-grid", SearchSpaceKind.Ps, "task_arithmetic", []);
            using var evaluator = new TorchCandidateEvaluator(evaluatorOptions);
            (double Score, double WA, double WB) best = (-1, 0, 0);
            int point = 0, points = plan.GridWeights.Count * plan.GridWeights.Count;
            foreach (double wa in plan.GridWeights)
                foreach (double wb in plan.GridWeights)
                {
                    progress?.Report(new DemoProgress("task-arithmetic grid", $"point {++point}/{points}: w_A={wa} w_B={wb}"));
                    double s = evaluator.EvaluateOne(Uniform(config, ["weight"], [wa, wb]), TaskSpecs.Work(dev, null, config), cancellationToken).Scores[0];
                    if (s > best.Score) best = (s, wa, wb);
                }
            return (Fixed("task-arithmetic-best", "task_arithmetic", baseModel, ["weight"], [best.WA, best.WB],
                $"task arithmetic w_A={best.WA} w_B={best.WB} (best of {points} on dev)", points, watch.Elapsed.TotalSeconds, best.Score),
                (best.WA, best.WB));
        }

        DemoRow SourceRow(string name, string model, (EvolutionConfig Config, EvolutionResult Result) run) =>
            Row(name, run, run.Result.Summary.Models.First(m => m.Kind == "source" && m.Label.EndsWith(model, StringComparison.Ordinal)), 0, null);

        DemoRow SearchedRow(string name, (EvolutionConfig Config, EvolutionResult Result) run, string stage)
        {
            var row = run.Result.Summary.Models.Last(m => m.Kind == stage);
            var searched = run.Result.Summary.Stages.First(s => s.Stage == stage);
            string recipe = stage == "ps"
                ? DemoRecipeText.Ps(new PsSpace(run.Config.Ps, baseModel, [a, b], DemoModelShape.Layers), searched.BestGenome!, ["A", "B"])
                : DemoRecipeText.Dfs(((PathBuild)run.Result.Best).Path, run.Config.Space == SearchSpaceKind.PsThenDfs ? ["PS", "B"] : ["A", "B"]);
            return Row(name, run, row, searched.Evaluations, recipe) with { Seconds = row.SearchSeconds + row.TestSeconds };
        }

        DemoRow Row(string name, (EvolutionConfig Config, EvolutionResult Result) run, ModelRow row, int evaluations, string? recipe)
        {
            double Score(int k) => row.TestScores[EvolutionRunner.TaskKey(run.Config.Test, k)];
            return new DemoRow(name, Score(0), Score(1), Score(2), Score(3), evaluations, row.TestSeconds, row.DevFitness, recipe);
        }
    }

    sealed class Reporter<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
