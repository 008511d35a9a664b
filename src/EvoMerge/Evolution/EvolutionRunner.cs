using System.Diagnostics;
using EvoMerge.Candidates;
using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.Run;
using EvoMerge.Evolution.Spaces;
using EvoMerge.Anatomy;
using EvoMerge.Evolution.M2n2;
using EvoMerge.IO;
using EvoMerge.Lora.Folding;
using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Recipes;

namespace EvoMerge.Evolution;

/// <summary>
/// Runs an evolution end to end: the search stage(s) of <see cref="EvolutionConfig.Space"/>, then the best model
/// written as a folder, then the test tasks scored on it and on every source model, then <c>summary.json</c>.
/// Everything is journaled, so <see cref="Run"/> with <see cref="RunOptions.Resume"/> continues a killed run
/// without losing or repeating an evaluation and ends exactly where an uninterrupted run would.
/// </summary>
public static class EvolutionRunner
{
    public static EvolutionResult Run(
        EvolutionConfig config,
        ICandidateEvaluator evaluator,
        string runDirectory,
        RunOptions? options = null,
        IProgress<EvolutionProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new RunOptions();
        EvolutionConfigReader.Validate(config, "config");
        var folder = new RunFolder(runDirectory);
        // The run folder may already exist (--resume) but must never be, or lie inside, a model the run reads.
        OutputPath.CheckOutside(folder.Root, config.Models.Append(config.BaseModel ?? "").Append(config.Dfs.ModelA ?? "").Concat(config.Dfs.Models ?? [])
            .Where(m => m.Length > 0).Select(config.ResolveModel).Where(Path.Exists), refuseAbove: false);
        Directory.CreateDirectory(folder.Root);
        folder.Prepare(config, options.Resume);
        using var journal = Journal.Open(folder.JournalFile);

        var stages = new List<StageResult>();
        var started = Stopwatch.StartNew();
        StageResult Search(ISearchSpace space, Func<ModelBuild, string> write)
        {
            var loop = new SearchLoop(config, space, evaluator, journal, folder,
                (best, stage) => RunJson.WriteAtomically(stage == "ps" ? folder.BestRecipe(stage) : folder.BestPath(stage), write(best)),
                progress, cancellationToken);
            var result = loop.Run();
            stages.Add(result);
            return result;
        }

        var psModels = config.Models.Select(config.ResolveModel).ToList();
        string? baseModel = config.BaseModel is { } b ? config.ResolveModel(b) : null;
        StageResult? ps = null;
        var baselines = new List<(string, ModelBuild)>();
        if (config.Space is SearchSpaceKind.Ps or SearchSpaceKind.PsThenDfs)
        {
            int layers = evaluator.LayerCount(baseModel ?? psModels[0]);
            // Component sources are model references like the sources: resolved the same way.
            var psConfig = config.Ps with
            {
                Components = config.Ps.Components.ToDictionary(kv => kv.Key, kv => config.ResolveModel(kv.Value)),
                Loras = config.Ps.Loras.Select(l => l with { Path = config.ResolveModel(l.Path) }).ToList(),
            };
            var space = new PsSpace(psConfig, baseModel, psModels, layers, config.MergeSeed);
            // The best recipe names a diffusion checkpoint's blocks by place (docs/diffusion.md); a language model's as mergekit does.
            string reference = LoraReference.Split(baseModel ?? psModels[0]).Model;
            var anatomy = Directory.Exists(reference) || File.Exists(reference) ? ModelFolder.AnatomyOf(reference) : null;
            baselines.AddRange(config.Ps.Baselines.Select(b =>
                ($"baseline: {config.Ps.Method} {string.Join(", ", b.Select(kv => $"{kv.Key} {kv.Value}"))}", (ModelBuild)space.Uniform(b))));
            if (config.Optimizer.Name == EvolutionConfigReader.M2n2Name)
            {
                ps = M2n2Search(config, psModels, evaluator, journal, folder, options, progress, cancellationToken);
                stages.Add(ps);
            }
            else ps = Search(space, c => MergekitRecipeWriter.Write(((MergeBuild)c).Recipe, layers, config.Ps.Globals, anatomy: anatomy));
        }
        StageResult final = ps!;
        if (config.Space is SearchSpaceKind.Dfs or SearchSpaceKind.PsThenDfs)
        {
            string modelA;
            if (ps is null) modelA = config.ResolveModel(config.Dfs.ModelA ?? config.Models[0]);
            else
            {
                // The paper's hybrid: the PS result becomes model A of the DFS search.
                modelA = folder.StageModel("ps");
                WriteModelOnce(evaluator, ps.Best.Candidate, modelA, progress, cancellationToken);
            }
            var others = (config.Dfs.Models ?? config.Models).Select(config.ResolveModel).Where(m => m != modelA).ToList();
            var dfsModels = new List<string> { modelA };
            dfsModels.AddRange(others);
            var space = new DfsSpace(config.Dfs, dfsModels, dfsModels.Select(evaluator.LayerCount).ToList());
            final = Search(space, c => System.Text.Json.JsonSerializer.Serialize(((PathBuild)c).Path, RunJson.Indented));
        }

        if (options.WriteModel) WriteModelOnce(evaluator, final.Best.Candidate, folder.BestModel, progress, cancellationToken);
        var rows = TestRows(config, psModels, baselines, ps, final, journal, evaluator, progress, cancellationToken);
        var summary = EvolutionSummary.Create(config, stages, rows, started.Elapsed.TotalSeconds);
        RunJson.WriteFile(folder.SummaryFile, summary);
        return new EvolutionResult(final.Best.Candidate, final.Best.Fitness, summary, folder.Root);
    }

    /// <summary>
    /// The PS stage with M2N2: the sources are opened (read only) to measure their geometry, which slerping blends
    /// needs; the evaluator builds and scores the children. The best blend is kept in <c>ps/best-blend.json</c>.
    /// </summary>
    static StageResult M2n2Search(EvolutionConfig config, IReadOnlyList<string> models, ICandidateEvaluator evaluator, Journal journal,
        RunFolder folder, RunOptions options, IProgress<EvolutionProgress>? progress, CancellationToken cancellationToken)
    {
        var opened = new List<FoldedModel>();
        try
        {
            IReadOnlyList<IWeightSource> weights;
            ModelAnatomy? anatomy = null;
            if (options.SourceWeights is { } open) weights = models.Select(open).ToList();
            else
            {
                // The geometry of model+lora sources is that of the folded weights the children are built from.
                foreach (var m in models) opened.Add(FoldedModel.Open(m, m));
                weights = opened.Select(f => f.Weights).ToList();
                anatomy = opened[0].Folder.Anatomy;
            }
            var geometry = new SourceGeometry(BlendExecutor.Plan(weights, anatomy));
            var optimizer = new M2n2Optimizer(config.Optimizer.M2n2, models, geometry, config.Seed);
            var loop = new SteadyStateLoop(config, optimizer, evaluator, journal, folder,
                best => RunJson.WriteFile(folder.BestBlend("ps"), ((BlendBuild)best).Recipe), progress, cancellationToken);
            return loop.Run();
        }
        finally
        {
            foreach (var f in opened) f.Dispose();
        }
    }

    static void WriteModelOnce(ICandidateEvaluator evaluator, ModelBuild candidate, string folder,
        IProgress<EvolutionProgress>? progress, CancellationToken cancellationToken)
    {
        if (Directory.Exists(folder)) return;   // written completely before a kill (evaluators write temp, then rename)
        progress?.Report(new EvolutionProgress("final", 0, null, 0, 0, null, null, null, 0, null, $"writing {folder}"));
        evaluator.WriteModel(candidate, folder, cancellationToken);
    }

    /// <summary>
    /// The comparison table on the test tasks: every source model, the naive baselines, the PS result (in ps+dfs)
    /// and the final best.
    /// </summary>
    static List<ModelRow> TestRows(EvolutionConfig config, List<string> sources, List<(string Label, ModelBuild Candidate)> baselines,
        StageResult? ps, StageResult final, Journal journal, ICandidateEvaluator evaluator,
        IProgress<EvolutionProgress>? progress, CancellationToken cancellationToken)
    {
        var rows = new List<(string Label, ModelBuild Candidate, StageResult? Stage)>();
        rows.AddRange(sources.Select(s => ($"source: {s}", (ModelBuild)new SourceBuild(s), (StageResult?)null)));
        rows.AddRange(baselines.Select(b => (b.Label, b.Candidate, (StageResult?)null)));
        if (ps != null && ps != final) rows.Add(("best ps", ps.Best.Candidate, ps));
        rows.Add(($"best {final.Stage}", final.Best.Candidate, final));

        var result = new List<ModelRow>();
        for (int i = 0; i < rows.Count; i++)
        {
            var (label, candidate, stage) = rows[i];
            double[] scores = [];
            double seconds = 0;
            if (config.Test.Count > 0)
            {
                var entry = journal.Find("final", EntryKinds.Test, 0, i);
                if (entry is null)
                {
                    progress?.Report(new EvolutionProgress("final", 0, null, i, rows.Count, null, null, null, 0, null, $"test: {label}"));
                    cancellationToken.ThrowIfCancellationRequested();
                    var watch = Stopwatch.StartNew();
                    var r = evaluator.EvaluateOne(candidate, TaskSpecs.Work(config.Test, null, config), cancellationToken);
                    var measured = r.Scores;
                    entry = new JournalEntry("final", EntryKinds.Test, 0, i, label, null, null, candidate, null,
                        measured, Fitness.Of(config.Test, measured), r.BuildSeconds, r.ScoreSeconds, false, ItemScores.Of(r), r.Failures);
                    journal.Append(entry);
                }
                scores = entry.Scores;
                seconds = entry.BuildSeconds + entry.ScoreSeconds;
            }
            var testScores = new Dictionary<string, double>();
            for (int k = 0; k < scores.Length; k++) testScores[TaskKey(config.Test, k)] = scores[k];
            result.Add(new ModelRow(label, stage?.Stage ?? (candidate is SourceBuild ? "source" : "baseline"), testScores,
                stage?.Best.Fitness, stage?.Evaluations ?? 0, stage?.WallSeconds ?? 0, seconds));
        }
        return result;
    }

    /// <summary>Task names as summary keys; a task listed twice is told apart by its data file.</summary>
    public static string TaskKey(IReadOnlyList<TaskConfig> tasks, int k) =>
        tasks.Count(t => t.Task == tasks[k].Task) > 1 ? $"{tasks[k].Task} ({tasks[k].Command?.Text ?? tasks[k].Data})" : tasks[k].Task;
}

/// <param name="Resume">Continue the run already in the folder (error when the folder holds a different config).</param>
/// <param name="WriteModel">Write the best model folder at the end (tests of the loop alone turn it off).</param>
/// <param name="SourceWeights">How M2N2 reads a source model's tensors (null: its folder; tests give tensors in memory).</param>
public sealed record RunOptions(bool Resume = false, bool WriteModel = true, Func<string, IWeightSource>? SourceWeights = null);

/// <param name="Best">The best candidate of the last stage.</param>
/// <param name="BestFitness">Its dev fitness (full dev set).</param>
public sealed record EvolutionResult(ModelBuild Best, double BestFitness, EvolutionSummary Summary, string RunDirectory);
