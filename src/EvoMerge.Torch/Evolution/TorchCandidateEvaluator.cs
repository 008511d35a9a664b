using System.Diagnostics;
using EvoMerge.Evaluation;
using EvoMerge.Evolution;
using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.Output;
using EvoMerge.Evolution.Spaces;
using EvoMerge.IO;
using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Methods;
using EvoMerge.Torch.Model;
using EvoMerge.Torch.Runtime;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Evolution;

/// <summary>
/// The in-process evaluator: a PS candidate is merged by the merge engine straight into one resident model's
/// weights (float32 copies of the sources are cached once; nothing touches disk per candidate); a DFS candidate
/// swaps the path of a <see cref="LayerPathModel"/> over the loaded models; a source model is loaded as is.
/// Then every task of the request is scored through <see cref="TorchLanguageModel"/>.
/// Models are loaded on first use and kept. Not thread-safe: one candidate at a time.
/// </summary>
public sealed class TorchCandidateEvaluator(EvolutionConfig config, TorchEvaluatorOptions? options = null) : ICandidateEvaluator, IDisposable
{
    readonly TorchEvaluatorOptions _options = options ?? new TorchEvaluatorOptions();
    readonly Dictionary<string, LoadedModel> _loaded = new();
    readonly Dictionary<TaskConfig, IEvalTask> _tasks = new();
    readonly Dictionary<string, int> _layerCounts = new();
    MergeSession? _session;
    LoadedModel? _resident;   // the PS merge target: a private copy of the base's structure, overwritten per candidate

    public int LayerCount(string model)
    {
        if (!_layerCounts.TryGetValue(model, out int layers))
        {
            using var folder = ModelFolder.Open(model);
            _layerCounts[model] = layers = folder.LayerCount;
        }
        return layers;
    }

    public CandidateEvaluation Evaluate(Candidate candidate, EvaluationRequest request, CancellationToken cancellationToken)
    {
        set_num_threads(_options.Threads);
        var watch = Stopwatch.StartNew();
        var model = Build(candidate, cancellationToken);   // outside the scope below: models loaded here are kept
        double build = watch.Elapsed.TotalSeconds;
        watch.Restart();
        using var scope = NewDisposeScope();
        var scores = new double[request.Tasks.Count];
        for (int i = 0; i < scores.Length; i++)
        {
            var task = request.Tasks[i];
            var result = TaskOf(task).Evaluate(model, TaskSpecs.SubsetOf(task, request.MinibatchSeed),
                new EvalRunOptions(_options.BatchSize, Cancellation: cancellationToken));
            scores[i] = TaskSpecs.ScoreOf(result);
        }
        return new CandidateEvaluation(scores, build, watch.Elapsed.TotalSeconds);
    }

    public void WriteModel(Candidate candidate, string folder, CancellationToken cancellationToken)
    {
        string reference = candidate is PsCandidate { Recipe: var r } ? r.BaseModel ?? r.Models[0] : ((DfsCandidate)candidate).Path.Models[0];
        CandidateModelWriter.Write(candidate, folder, config, LayerCount(reference), _options.DType == ScalarType.Float32 ? "float32" : "bfloat16");
    }

    /// <summary>Makes the candidate runnable and returns it as a language model.</summary>
    ILanguageModel Build(Candidate candidate, CancellationToken cancellationToken)
    {
        switch (candidate)
        {
            case PsCandidate { Recipe: var recipe }:
                var (session, resident) = PsTarget(recipe);
                session.Merge(new PsMergeParameters(recipe, config.Ps.Globals), CandidateModelWriter.MergeSeed(config), resident.Weights,
                    _options.Threads, cancellation: cancellationToken);
                return new TorchLanguageModel(resident.Model, resident.Tokenizer, _options.BatchSize);
            case DfsCandidate { Path: var path }:
                var models = path.Models.Select(Load).ToList();
                var steps = path.Steps.Select(s => new Model.PathStep(s.Model, s.Layer, (float)s.Scale)).ToList();
                return new TorchLanguageModel(new LayerPathModel(models.Select(m => m.Model).ToList(), 0, steps), models[0].Tokenizer, _options.BatchSize);
            case SourceCandidate { Model: var reference }:
                var loaded = Load(reference);
                return new TorchLanguageModel(loaded.Model, loaded.Tokenizer, _options.BatchSize);
            default:
                throw new ArgumentException($"unknown candidate {candidate.GetType().Name}", nameof(candidate));
        }
    }

    (MergeSession, LoadedModel) PsTarget(PsRecipe recipe)
    {
        if (_session is null || _resident is null)
        {
            string reference = recipe.BaseModel ?? recipe.Models[0];
            var folders = recipe.Models.Prepend(recipe.BaseModel).OfType<string>().Select(ModelFolder.Open).ToList();
            try
            {
                // The session keeps float32 copies of every source, so the memory-mapped folders can close after.
                var weights = folders.Select(f => (IWeightSource)new SafetensorsWeights(f.Weights, Path.GetFileName(f.Path.TrimEnd('/')))).ToList();
                bool hasBase = recipe.BaseModel != null;
                _session = MergeSession.Create(MergeMethods.Get(recipe.Method), hasBase ? weights[0] : null,
                    hasBase ? weights.Skip(1).ToList() : weights, folders[0].Layout);
            }
            finally
            {
                foreach (var f in folders) f.Dispose();
            }
            _resident = LoadedModel.Load(reference, dtype: _options.DType);
        }
        return (_session, _resident);
    }

    LoadedModel Load(string reference)
    {
        if (!_loaded.TryGetValue(reference, out var model))
            _loaded[reference] = model = LoadedModel.Load(reference, dtype: _options.DType);
        return model;
    }

    IEvalTask TaskOf(TaskConfig task)
    {
        if (!_tasks.TryGetValue(task, out var t))
            _tasks[task] = t = _options.TaskFactory?.Invoke(task) ?? EvalTasks.Create(TaskSpecs.ToSpec(task, config));
        return t;
    }

    public void Dispose()
    {
        foreach (var m in _loaded.Values) m.Dispose();
        _resident?.Dispose();
    }
}

/// <param name="Threads">libtorch and merge threads (tests use 1–2; the CLI uses all cores).</param>
/// <param name="DType">Weights of the resident and loaded models: bf16 is fast on CPUs with bf16 units, f32 exact.</param>
/// <param name="BatchSize">Prompts per forward.</param>
/// <param name="TaskFactory">
/// For callers in code: builds the task of a fitness or test entry (return null for the evaluation engine's own),
/// so a custom <see cref="IEvalTask"/> can serve as fitness.
/// </param>
public sealed record TorchEvaluatorOptions(
    int Threads = 2,
    ScalarType DType = ScalarType.BFloat16,
    int BatchSize = 16,
    Func<TaskConfig, IEvalTask?>? TaskFactory = null);
