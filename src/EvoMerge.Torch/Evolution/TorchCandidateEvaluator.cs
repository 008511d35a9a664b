using System.Diagnostics;
using EvoMerge.Candidates;
using EvoMerge.Evaluation;
using EvoMerge.Evolution.Output;
using EvoMerge.IO;
using EvoMerge.Lora.Folding;
using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Methods;
using EvoMerge.Merge.Recipes;
using EvoMerge.Torch.Model;
using EvoMerge.Torch.Runtime;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Evolution;

/// <summary>
/// The in-process evaluator: a merge is built by the merge engine straight into one resident model's weights
/// (float32 copies of the sources are cached once; nothing touches disk per candidate); a layer path swaps the path
/// of a <see cref="LayerPathModel"/> over the loaded models; a source model is loaded as is. Then every task of the
/// work is scored through <see cref="TorchLanguageModel"/>. Models are loaded on first use and kept. Work items
/// run one after another, in order; not thread-safe.
/// </summary>
public sealed class TorchCandidateEvaluator(TorchEvaluatorOptions? options = null) : ICandidateEvaluator, IDisposable
{
    readonly TorchEvaluatorOptions _options = options ?? new TorchEvaluatorOptions();
    readonly Dictionary<string, IResidentModel> _loaded = new();
    readonly Dictionary<EvalTaskSpec, IEvalTask> _tasks = new();
    readonly Dictionary<string, int> _layerCounts = new();
    MergeTarget? _merge;   // the merge session and resident model of the last merge's sources

    /// <param name="Loras">The recipe's LoRAs (ps.loras) matched onto the merged tensors, folded into each merge on its way to the resident.</param>
    sealed record MergeTarget(string Method, IReadOnlyList<string> Sources, IReadOnlyList<WeightedLora> LoraList, MergeSession Session, IResidentModel Resident,
        LoraPatches? Loras, IReadOnlyList<LoraFile> LoraFiles) : IDisposable
    {
        public void Dispose()
        {
            Resident.Dispose();
            foreach (var f in LoraFiles) f.Dispose();
        }
    }

    public int LayerCount(string model)
    {
        if (!_layerCounts.TryGetValue(model, out int layers))
        {
            using var folder = ModelFolder.Open(LoraReference.Split(model).Model);   // a LoRA changes no layer count
            _layerCounts[model] = layers = folder.LayerCount;
        }
        return layers;
    }

    readonly object _gate = new();

    /// <summary>Concurrent calls (M2N2 with several children in flight) take turns: there is one resident model.</summary>
    public IEnumerable<CandidateResult> Evaluate(IReadOnlyList<CandidateWork> batch, CancellationToken cancellationToken)
    {
        foreach (var work in batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            CandidateResult result;
            lock (_gate) result = EvaluateOne(work, cancellationToken);
            yield return result;
        }
    }

    CandidateResult EvaluateOne(CandidateWork work, CancellationToken cancellationToken)
    {
        set_num_threads(_options.Threads);
        var watch = Stopwatch.StartNew();
        var model = Build(work.Build, cancellationToken);   // outside the scope below: models loaded here are kept
        double build = watch.Elapsed.TotalSeconds;
        watch.Restart();
        using var scope = NewDisposeScope();
        var outcomes = work.Tasks.Select(task => TaskOutcome.Of(TaskOf(task.Spec).Evaluate(model, task.Subset,
            new EvalRunOptions(_options.BatchSize, Cancellation: cancellationToken)))).ToList();
        return new CandidateResult(work.Key, outcomes, build, watch.Elapsed.TotalSeconds);
    }

    public void WriteModel(ModelBuild build, string folder, CancellationToken cancellationToken) =>
        CandidateModelWriter.Write(build, folder, LayerCount(build.ReferenceModel), _options.DType == ScalarType.Float32 ? "float32" : "bfloat16");

    /// <summary>Makes the build runnable and returns it as a language model.</summary>
    ILanguageModel Build(ModelBuild build, CancellationToken cancellationToken)
    {
        switch (build)
        {
            case MergeBuild merge:
                var target = MergeTargetFor(merge.Recipe.Method, merge.Recipe.BaseModel, merge.SourceModels, merge.Recipe.Loras ?? []);
                var weights = target.Loras is { } loras ? LoraFoldingTarget.Wrap(target.Resident.Weights, loras) : target.Resident.Weights;
                target.Session.Merge(merge.Recipe.WithGlobals(merge.Globals), merge.Seed, weights, _options.Threads, cancellation: cancellationToken);
                return target.Resident.LanguageModel(_options.BatchSize);
            case BlendBuild { Recipe: var blend }:
                // A blend is linear in the sources: the session of a 'linear' merge holds them, the blend executor combines them.
                var sources = MergeTargetFor("linear", null, blend.Models, []);
                BlendExecutor.Run(sources.Session.Plan, blend, sources.Resident.Weights, _options.Threads, cancellationToken);
                return sources.Resident.LanguageModel(_options.BatchSize);
            case PathBuild { Path: var path }:
                // Any source's decoder layers (a VLM's language model among them); model A runs the embedding stage.
                var models = path.Models.Select(Load).ToList();
                return models[0].PathLanguageModel(new LayerPathModel(models.Select(m => m.Decoder).ToList(), 0, path.Steps), _options.BatchSize);
            case SourceBuild { Model: var reference }:
                return Load(reference).LanguageModel(_options.BatchSize);
            default:
                throw new ArgumentException($"unknown build {build.GetType().Name}", nameof(build));
        }
    }

    /// <summary>The session and resident model for a method and its sources ([base, models...]), made once and reused by every candidate.</summary>
    MergeTarget MergeTargetFor(string method, string? baseModel, IReadOnlyList<string> sourceModels, IReadOnlyList<WeightedLora> loras)
    {
        if (_merge is { } current && current.Method == method && current.Sources.SequenceEqual(sourceModels) && current.LoraList.SequenceEqual(loras)) return current;
        _merge?.Dispose();
        _merge = null;
        var folders = new List<FoldedModel>();
        MergeSession session;
        int layout;
        EvoMerge.Anatomy.ModelAnatomy anatomy;
        try
        {
            // model+lora sources are folded as the session copies them: once, when the sources load.
            foreach (var m in sourceModels) folders.Add(FoldedModel.Open(m));
            // A VLM among the sources (a LLaVA) is the merge's layout: its language model is merged, the rest copied.
            layout = folders.FindIndex(f => f.Folder.Anatomy.IsLlava);
            // The session keeps float32 copies of every source, so the memory-mapped folders can close after.
            var weights = folders.Select(f => f.Weights).ToList();
            bool hasBase = baseModel != null;
            anatomy = folders[Math.Max(0, layout)].Folder.Anatomy;
            session = MergeSession.Create(MergeMethods.Get(method), hasBase ? weights[0] : null,
                hasBase ? weights.Skip(1).ToList() : weights, anatomy, layout: layout >= 0 ? weights[layout] : null);
        }
        finally
        {
            foreach (var f in folders) f.Dispose();
        }
        var (patches, files) = OutputLoras(session, anatomy, loras);
        try
        {
            // Every tensor of the resident is merged into, so its own weights (the model half's) never show.
            return _merge = new MergeTarget(method, sourceModels, loras, session, LoadResident(LoraReference.Split(sourceModels[Math.Max(0, layout)]).Model), patches, files);
        }
        catch
        {
            foreach (var f in files) f.Dispose();
            throw;
        }
    }

    /// <summary>The recipe's LoRAs matched onto the merge's output tensors once; their factors are read as each merge folds them.</summary>
    static (LoraPatches? Patches, List<LoraFile> Files) OutputLoras(MergeSession session, EvoMerge.Anatomy.ModelAnatomy anatomy, IReadOnlyList<WeightedLora> loras)
    {
        if (loras.Count == 0) return (null, []);
        var files = new List<LoraFile>();
        try
        {
            var patches = new LoraPatches(session.Plan.Jobs.Select(j => (j.OutputName, j.Shape)), "the merged model", anatomy);
            foreach (var lora in loras)
            {
                var file = LoraFile.Open(lora.Path);
                files.Add(file);
                patches.Add(file, lora.Strength, []);
            }
            return (patches, files);
        }
        catch
        {
            foreach (var f in files) f.Dispose();
            throw;
        }
    }

    /// <summary>A source as it is (scored, or a layer path's model); a <c>model+lora</c> source gets its LoRA folded in once, at load.</summary>
    IResidentModel Load(string reference)
    {
        if (_loaded.TryGetValue(reference, out var model)) return model;
        var (plain, lora) = LoraReference.Split(reference);
        model = LoadResident(plain);
        if (lora != null)
        {
            try
            {
                using var folded = FoldedModel.Open(reference);
                folded.FoldInto(model.Weights);
            }
            catch
            {
                model.Dispose();
                throw;
            }
        }
        return _loaded[reference] = model;
    }

    /// <summary>A family the caller knows (<see cref="TorchEvaluatorOptions.Residents"/>), else a Llama-family LLM.</summary>
    IResidentModel LoadResident(string reference) =>
        _options.Residents?.Invoke(reference, _options.DType) ?? LlmResident.Load(reference, _options.DType);

    IEvalTask TaskOf(EvalTaskSpec spec)
    {
        if (!_tasks.TryGetValue(spec, out var t))
            _tasks[spec] = t = _options.TaskFactory?.Invoke(spec) ?? EvalTasks.Create(spec);
        return t;
    }

    public void Dispose()
    {
        foreach (var m in _loaded.Values) m.Dispose();
        _merge?.Dispose();
    }
}

/// <param name="Threads">libtorch and merge threads (tests use 1–2; the CLI uses all cores).</param>
/// <param name="DType">Weights of the resident and loaded models: bf16 is fast on CPUs with bf16 units, f32 exact.</param>
/// <param name="BatchSize">Prompts per forward.</param>
/// <param name="TaskFactory">
/// For callers in code: builds the task of a spec (return null for the evaluation engine's own), so a custom
/// <see cref="IEvalTask"/> can serve as fitness.
/// </param>
/// <param name="Residents">
/// Loads a model family the Torch runtime does not know as a resident model (the CLI passes EvoMerge.Torch.Vision's
/// LLaVA loader), or returns null for a Llama-family LLM.
/// </param>
public sealed record TorchEvaluatorOptions(
    int Threads = 2,
    ScalarType DType = ScalarType.BFloat16,
    int BatchSize = 16,
    Func<EvalTaskSpec, IEvalTask?>? TaskFactory = null,
    Func<string, ScalarType, IResidentModel?>? Residents = null);
