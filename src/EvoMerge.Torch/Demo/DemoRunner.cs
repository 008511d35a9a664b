using System.Diagnostics;
using EvoMerge.Demo;
using EvoMerge.Evaluation;
using EvoMerge.Evolution;
using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.Run;
using EvoMerge.Evolution.Spaces;
using static EvoMerge.Demo.DemoTasks;

namespace EvoMerge.Torch.Demo;

/// <summary>What the demo is doing now: a phase name, and the evolution engine's snapshot while searching.</summary>
public readonly record struct DemoProgress(string Phase, string Message, EvolutionProgress? Search = null);

/// <param name="ModelsFolder">Holds <c>base/</c>, <c>ja/</c> (model A) and <c>math/</c> (model B).</param>
/// <param name="OutputFolder">Receives <c>data/</c>, one run folder per search, and <c>summary.json</c>.</param>
public sealed record DemoOptions(string ModelsFolder, string OutputFolder, int Seed = 0, bool Quick = false);

/// <summary>
/// The miniature EvoLLM-JP, end to end: scores the two sources, the plain average, the best task-arithmetic grid
/// point (chosen on dev), default DARE-TIES, then evolves PS, DFS and PS→DFS with the evolution engine. Fitness is
/// Japanese-math strict accuracy on the dev split; everything in the table is measured on the test splits.
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

        var files = WriteData(new MiniatureWorld().Splits, Path.Combine(output, "data"));
        TaskConfig Task(string name, string data) => new() { Task = name, Data = data, MaxNewTokens = MaxNewCharacters };
        IReadOnlyList<TaskConfig> dev = [Task(JaMathStrict, files.JaMathDev)];
        IReadOnlyList<TaskConfig> test =
        [
            Task(JaMathStrict, files.JaMathTest), Task(JaMathNumber, files.JaMathTest), Task(EnMath, files.EnMathTest), Task(JaQa, files.JaQaTest),
        ];
        using var evaluator = new DemoCandidateEvaluator(t => EvalTasks.Create(Spec(t.Task, t.Data)), mergeSeed: (ulong)options.Seed);
        var rows = new List<DemoRow>();
        var runFolders = new List<string>();

        DemoRow Fixed(string name, Candidate candidate, int evaluations = 0, double searchSeconds = 0, double? devScore = null, string? recipe = null)
        {
            progress?.Report(new DemoProgress(name, "scoring on the test splits"));
            var r = evaluator.Evaluate(candidate, new EvaluationRequest(test, null), cancellationToken);
            return new DemoRow(name, r.Scores[0], r.Scores[1], r.Scores[2], r.Scores[3], evaluations,
                searchSeconds + r.BuildSeconds + r.ScoreSeconds, devScore, recipe);
        }

        // The paper's hybrid first: its PS stage is the "evolved PS" row, its DFS stage "evolved PS→DFS"; it also scores both sources.
        int layers = evaluator.LayerCount(a);
        var hybrid = Evolve("evolved-ps-dfs", SearchSpaceKind.PsThenDfs, dfsModels: [b]);
        rows.Add(SourceRow("A", a, hybrid));
        rows.Add(SourceRow("B", b, hybrid));

        rows.Add(Fixed("average", Uniform("linear", null, ["weight"], [[0.5], [0.5]]), recipe: "linear 0.5·A + 0.5·B"));

        var grid = Stopwatch.StartNew();
        (double Score, double WA, double WB) best = (-1, 0, 0);
        int gridPoint = 0;
        foreach (double wa in plan.GridWeights)
            foreach (double wb in plan.GridWeights)
            {
                progress?.Report(new DemoProgress("task-arithmetic grid", $"point {++gridPoint}/{plan.GridWeights.Count * plan.GridWeights.Count}: w_A={wa} w_B={wb}"));
                double s = evaluator.Evaluate(Uniform("task_arithmetic", baseModel, ["weight"], [[wa], [wb]]), new EvaluationRequest(dev, null), cancellationToken).Scores[0];
                if (s > best.Score) best = (s, wa, wb);
            }
        rows.Add(Fixed("task-arithmetic-best", Uniform("task_arithmetic", baseModel, ["weight"], [[best.WA], [best.WB]]),
            gridPoint, grid.Elapsed.TotalSeconds, best.Score, $"task arithmetic w_A={best.WA} w_B={best.WB}"));

        rows.Add(Fixed("dare-ties-default", Uniform("dare_ties", baseModel, ["weight", "density"], [[1, 0.5], [1, 0.5]]),
            recipe: "dare_ties w=1 d=0.5 for both"));

        rows.Add(SearchedRow("evolved-ps", hybrid, "ps"));
        var dfs = Evolve("evolved-dfs", SearchSpaceKind.Dfs, dfsModels: [a, b]);
        rows.Add(SearchedRow("evolved-dfs", dfs, "dfs"));
        rows.Add(SearchedRow("evolved-ps-dfs", hybrid, "dfs"));

        var summary = new DemoSummary(rows, options.Seed, options.Quick, clock.Elapsed.TotalSeconds, runFolders);
        summary.Write(output);
        return summary;

        PsCandidate Uniform(string method, string? baseFolder, IReadOnlyList<string> parameters, double[][] perModel) =>
            new(new PsRecipe(method, baseFolder, [a, b], parameters,
                [new TensorGroup("all", 0, layers - 1, [TensorPart.Embeddings, TensorPart.Attention, TensorPart.Mlp])],
                [perModel.Select(v => (IReadOnlyList<double>)v).ToList()]));

        (EvolutionConfig Config, EvolutionResult Result) Evolve(string name, SearchSpaceKind space, IReadOnlyList<string> dfsModels)
        {
            var config = new EvolutionConfig
            {
                Name = name,
                Seed = options.Seed,
                BaseModel = baseModel,
                Models = [a, b],
                Space = space,
                Ps = new PsConfig
                {
                    Method = "dare_ties", LayerGroups = layers, EmbeddingsGroup = true, Parameters = ["weight", "density"],
                    Ranges = new Dictionary<string, ParameterRange> { ["weight"] = new(0, 2), ["density"] = new(0.01, 1) },
                },
                Dfs = new DfsConfig { Repeats = plan.DfsRepeats, Scales = DfsScales.PerSlot, Models = dfsModels },
                Optimizer = space == SearchSpaceKind.Dfs
                    ? new OptimizerConfig { Population = plan.DfsPopulation, Generations = plan.DfsGenerations }
                    : new OptimizerConfig { Population = plan.PsPopulation, Generations = plan.PsGenerations },
                Fitness = dev,
                Test = test,
                BaseDirectory = output,
            };
            string folder = Path.Combine(output, name);
            runFolders.Add(folder);
            var result = EvolutionRunner.Run(config, evaluator, folder, new RunOptions(WriteModel: false),
                new Reporter<EvolutionProgress>(p => progress?.Report(new DemoProgress(name, p.Message ?? "", p))), cancellationToken);
            return (config, result);
        }

        DemoRow SourceRow(string name, string model, (EvolutionConfig Config, EvolutionResult Result) run)
        {
            var row = run.Result.Summary.Models.First(m => m.Kind == "source" && m.Label.EndsWith(model, StringComparison.Ordinal));
            return Row(name, row, 0, null);
        }

        DemoRow SearchedRow(string name, (EvolutionConfig Config, EvolutionResult Result) run, string stage)
        {
            var row = run.Result.Summary.Models.Last(m => m.Kind == stage);
            var stageSummary = run.Result.Summary.Stages.First(s => s.Stage == stage);
            string recipe = stage == "ps"
                ? DemoRecipeText.Ps(new PsSpace(run.Config.Ps, baseModel, [a, b], layers), stageSummary.BestGenome!, ["A", "B"])
                : DemoRecipeText.Dfs(((DfsCandidate)run.Result.Best).Path, stage == "dfs" && run.Config.Space == SearchSpaceKind.PsThenDfs ? ["PS", "B"] : ["A", "B"]);
            return Row(name, row, stageSummary.Evaluations, recipe) with { Seconds = row.SearchSeconds + row.TestSeconds };
        }

        DemoRow Row(string name, ModelRow row, int evaluations, string? recipe) => new(name,
            row.TestScores[JaMathStrict], row.TestScores[JaMathNumber], row.TestScores[EnMath], row.TestScores[JaQa],
            evaluations, row.TestSeconds, row.DevFitness, recipe);
    }

    sealed class Reporter<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
