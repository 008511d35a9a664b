using System.Diagnostics;
using EvoMerge.Evaluation;
using EvoMerge.Evolution;
using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.Spaces;
using EvoMerge.IO;
using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Methods;
using EvoMerge.Torch.Model;
using EvoMerge.Torch.Runtime;

namespace EvoMerge.Torch.Demo;

/// <summary>
/// Builds and scores the demo's candidates in memory: every source model is loaded once; a PS recipe is merged
/// straight into one resident model's weights (no disk); a source is scored as loaded. Tasks come from
/// <see cref="EvoMerge.Demo.DemoTasks"/> by name, and every prompt of a task goes to the model in one batch.
/// </summary>
public sealed class DemoCandidateEvaluator : ICandidateEvaluator, IDisposable
{
    readonly Dictionary<string, LoadedModel> sources = new();
    readonly Dictionary<string, MergeSession> sessions = new();
    readonly Dictionary<(string Task, string Data), IEvalTask> tasks = new();
    readonly Func<TaskConfig, IEvalTask> createTask;
    readonly ulong mergeSeed;
    LoadedModel? resident;

    /// <param name="createTask">Turns a task of the evolution config into an evaluation task.</param>
    /// <param name="mergeSeed">Seed of DARE's random drops (the same for every candidate, so candidates differ only by recipe).</param>
    public DemoCandidateEvaluator(Func<TaskConfig, IEvalTask> createTask, ulong mergeSeed)
    {
        this.createTask = createTask;
        this.mergeSeed = mergeSeed;
    }

    /// <summary>Prompts per generation call: a whole dev or test split at once.</summary>
    public const int BatchSize = 256;

    public int LayerCount(string model) => Source(model).Model.Config.NumLayers;

    public CandidateEvaluation Evaluate(Candidate candidate, EvaluationRequest request, CancellationToken cancellationToken)
    {
        var build = Stopwatch.StartNew();
        var (model, tokenizer) = Build(candidate);
        build.Stop();
        var score = Stopwatch.StartNew();
        var lm = new TorchLanguageModel(model, tokenizer, BatchSize);
        var scores = request.Tasks.Select(t =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            var subset = t.Minibatch is int n && request.MinibatchSeed is int seed ? Subset.Sample(n, seed)
                : t.Limit is int limit ? Subset.First(limit) : Subset.All;
            return Task(t).Evaluate(lm, subset, new EvalRunOptions(BatchSize, Cancellation: cancellationToken)).Primary.Value;
        }).ToList();
        return new CandidateEvaluation(scores, build.Elapsed.TotalSeconds, score.Elapsed.TotalSeconds);
    }

    public void WriteModel(Candidate candidate, string folder, CancellationToken cancellationToken)
    {
        if (candidate is not PsCandidate ps) throw new NotSupportedException($"the demo writes PS models only, not {candidate.GetType().Name}");
        var (model, _) = Build(ps);
        string temp = folder + ".partial";
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        DemoModelWriter.Save((LlamaForCausalLM)model, new EvoMerge.Demo.CharacterTokenizer(), temp);
        Directory.Move(temp, folder);
    }

    (ICausalLM Model, EvoMerge.Tokenization.ITokenizer Tokenizer) Build(Candidate candidate)
    {
        switch (candidate)
        {
            case SourceCandidate s:
                var source = Source(s.Model);
                return (source.Model, source.Tokenizer);
            case PsCandidate { Recipe: var recipe }:
                resident ??= LoadedModel.Load(recipe.Models[0]);
                Session(recipe).Merge(new RecipeParameters(recipe), mergeSeed, resident.Weights, threads: 1);
                return (resident.Model, resident.Tokenizer);
            default:
                throw new NotSupportedException($"the demo evaluator cannot build a {candidate.GetType().Name}");
        }
    }

    LoadedModel Source(string model)
    {
        if (!sources.TryGetValue(model, out var loaded)) sources[model] = loaded = LoadedModel.Load(model);
        return loaded;
    }

    MergeSession Session(PsRecipe recipe)
    {
        string key = $"{recipe.Method}|{recipe.BaseModel}|{string.Join("|", recipe.Models)}";
        if (!sessions.TryGetValue(key, out var session))
        {
            // The session keeps float32 copies of the inputs, so the memory-mapped folders are needed only while it is made.
            var folders = (recipe.BaseModel is { } b ? recipe.Models.Prepend(b) : recipe.Models).Select(ModelFolder.Open).ToList();
            try
            {
                var weights = folders.Select(f => (IWeightSource)new SafetensorsWeights(f.Weights, f.Path)).ToList();
                sessions[key] = session = recipe.BaseModel is null
                    ? MergeSession.Create(MergeMethods.Get(recipe.Method), null, weights, folders[0].Layout)
                    : MergeSession.Create(MergeMethods.Get(recipe.Method), weights[0], weights.Skip(1).ToList(), folders[0].Layout);
            }
            finally
            {
                foreach (var f in folders) f.Dispose();
            }
        }
        return session;
    }

    IEvalTask Task(TaskConfig t)
    {
        if (!tasks.TryGetValue((t.Task, t.Data), out var task)) tasks[(t.Task, t.Data)] = task = createTask(t);
        return task;
    }

    public void Dispose()
    {
        foreach (var m in sources.Values) m.Dispose();
        resident?.Dispose();
    }
}
