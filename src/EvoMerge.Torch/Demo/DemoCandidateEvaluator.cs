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
/// straight into one resident model's weights (no disk); a DFS layer path runs over the loaded sources' own layers
/// (nothing copied); a source is scored as loaded. Tasks come from
/// <see cref="EvoMerge.Demo.DemoTasks"/> by name, and every prompt of a task goes to the model in one batch.
/// </summary>
public sealed class DemoCandidateEvaluator : ICandidateEvaluator, IDisposable
{
    readonly Dictionary<string, LoadedModel> sources = new();
    readonly Dictionary<string, MergeSession> sessions = new();
    readonly Dictionary<string, LayerPathModel> paths = new();
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
        // Strict and number-only scoring read the same replies: generate each prompt once per candidate.
        var lm = new RepliesOnce(new TorchLanguageModel(model, tokenizer, BatchSize));
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
        ModelWriter.Save((LlamaForCausalLM)model, folder, extraFiles: Directory.GetFiles(ps.Recipe.Models[0], "tokenizer*"));
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
            case DfsCandidate { Path: var path }:
                var steps = path.Steps.Select(st => new Model.PathStep(st.Model, st.Layer, (float)st.Scale)).ToList();
                string key = string.Join("|", path.Models);
                if (!paths.TryGetValue(key, out var pathModel))
                    paths[key] = pathModel = new LayerPathModel(path.Models.Select(m => Source(m).Model).ToList(), headModel: 0, steps);
                else pathModel.SetPath(steps);
                return (pathModel, Source(path.Models[0]).Tokenizer);
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

    /// <summary>Remembers the replies to prompts already generated with the same options (within one candidate).</summary>
    sealed class RepliesOnce(ILanguageModel inner) : ILanguageModel
    {
        readonly Dictionary<(string Prompt, string Options), string> replies = new();

        public IReadOnlyList<string> Generate(IReadOnlyList<string> prompts, GenerationOptions options)
        {
            // By value: two tasks' options are equal records holding different stop-string lists.
            string o = $"{options with { StopStrings = null }}|{string.Join("\u0000", options.StopStrings ?? [])}";
            var missing = prompts.Where(p => !replies.ContainsKey((p, o))).Distinct().ToList();
            if (missing.Count > 0)
            {
                var generated = inner.Generate(missing, options);
                for (int i = 0; i < missing.Count; i++) replies[(missing[i], o)] = generated[i];
            }
            return prompts.Select(p => replies[(p, o)]).ToList();
        }

        public IReadOnlyList<ContinuationScore> ScoreContinuations(IReadOnlyList<ContinuationRequest> requests) =>
            inner.ScoreContinuations(requests);
    }

    public void Dispose()
    {
        foreach (var m in sources.Values) m.Dispose();
        resident?.Dispose();
    }
}
