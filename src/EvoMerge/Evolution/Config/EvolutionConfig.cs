using EvoMerge.Evaluation.External;

namespace EvoMerge.Evolution.Config;

/// <summary>
/// An evolution run, exactly as <c>evolve.yml</c> spells it (snake_case keys in YAML, PascalCase here).
/// Built by <see cref="EvolutionConfigReader"/> from a file, or directly in code (the demo does).
/// Model strings are local folders or Hugging Face ids; relative folders are resolved against
/// <see cref="BaseDirectory"/> by <see cref="ResolveModel"/>.
/// </summary>
public sealed record EvolutionConfig
{
    public required string Name { get; init; }
    public int Seed { get; init; }

    /// <summary>The DARE/DELLA mask seed of every candidate merge of the run (the same recipe gives the same model).</summary>
    public ulong MergeSeed => (ulong)Seed;
    /// <summary>The common ancestor that task vectors are measured against (PS methods that need one).</summary>
    public string? BaseModel { get; init; }
    /// <summary>Source models: the PS merge inputs, and the DFS layer sources unless <see cref="DfsConfig.Models"/> says otherwise.</summary>
    public required IReadOnlyList<string> Models { get; init; }
    public SearchSpaceKind Space { get; init; } = SearchSpaceKind.Ps;
    public PsConfig Ps { get; init; } = new();
    public DfsConfig Dfs { get; init; } = new();
    public OptimizerConfig Optimizer { get; init; } = new();
    /// <summary>Tasks scored on their dev data; the fitness is the weighted sum of their scores (higher is better).</summary>
    public required IReadOnlyList<TaskConfig> Fitness { get; init; }
    /// <summary>Tasks scored once at the end, on the best model and on every source model.</summary>
    public IReadOnlyList<TaskConfig> Test { get; init; } = [];
    /// <summary>With minibatch fitness: how many of each generation's best are re-scored on the full dev set.</summary>
    public int RescoreTop { get; init; } = 1;
    /// <summary>Folder that relative model and data paths are resolved against (the config file's folder).</summary>
    public string BaseDirectory { get; init; } = ".";

    /// <summary>
    /// A local folder (absolute, starting with ./ or ../, or existing under <see cref="BaseDirectory"/>) becomes an
    /// absolute path; anything else is returned as written (a Hugging Face id such as <c>org/name@rev</c>).
    /// </summary>
    public string ResolveModel(string model)
    {
        // mergekit's model+lora: each half is a reference of its own (the LoRA often a file beside the config).
        if (Lora.Folding.LoraReference.Split(model) is (var plain, string lora)) return ResolvePath(plain) + "+" + ResolvePath(lora);
        return ResolvePath(model);
    }

    string ResolvePath(string model)
    {
        if (Path.IsPathRooted(model)) return model;
        string local = Path.GetFullPath(Path.Combine(BaseDirectory, model));
        bool looksLocal = model.StartsWith("./", StringComparison.Ordinal) || model.StartsWith("../", StringComparison.Ordinal);
        return looksLocal || Directory.Exists(local) || File.Exists(local) ? local : model;
    }

    /// <summary>A data file path relative to <see cref="BaseDirectory"/>, made absolute.</summary>
    public string ResolveData(string path) => Path.GetFullPath(Path.Combine(BaseDirectory, path));

    /// <summary>Whether any fitness task draws a fresh minibatch per generation.</summary>
    public bool UsesMinibatches => Fitness.Any(t => t.Minibatch is not null);
}

public enum SearchSpaceKind { Ps, Dfs, PsThenDfs }

/// <summary>Parameter-space search: a merge method whose per-model parameters are evolved per layer group.</summary>
public sealed record PsConfig
{
    /// <summary>A merge method with per-model parameters (the merge engine's name, e.g. dare_ties, ties, task_arithmetic, linear).</summary>
    public string Method { get; init; } = "dare_ties";
    /// <summary>Contiguous groups the decoder layers are split into: 1 = one group for the whole model (the paper), the layer count = per layer.</summary>
    public int LayerGroups { get; init; } = 1;
    /// <summary>
    /// Give embeddings, final norm and LM head their own group (default: yes when there is more than one layer group
    /// or attention/MLP are split); when no, they share the first layer group's values.
    /// </summary>
    public bool? EmbeddingsGroup { get; init; }
    /// <summary>
    /// Give the final norm and LM head a group of their own (the last group) instead of sharing the embeddings' values:
    /// a merge may then take its reading of the input from one model and its output vocabulary from another.
    /// </summary>
    public bool HeadGroup { get; init; }
    /// <summary>Evolve attention and MLP tensors of each layer group separately.</summary>
    public bool SplitAttentionMlp { get; init; }
    /// <summary>
    /// Diffusion checkpoints: components taken whole from one model instead of merged (<c>text_encoder: jsdxl</c>,
    /// <c>vae: base</c>), as a recipe's <c>components:</c> (docs/diffusion.md).
    /// </summary>
    public IReadOnlyDictionary<string, string> Components { get; init; } = new Dictionary<string, string>();
    /// <summary>
    /// LoRAs folded into every PS merge, in order, at their strengths (<c>loras: [{path, strength}]</c>, as a recipe's
    /// <c>loras:</c>): EvoSDXL-JP's Lightning on each candidate. Paths resolve as model references.
    /// </summary>
    public IReadOnlyList<Merge.Recipes.WeightedLora> Loras { get; init; } = [];
    /// <summary>The per-model parameters evolved (each gets one value per model and group).</summary>
    public IReadOnlyList<string> Parameters { get; init; } = ["weight", "density"];
    /// <summary>Fixed global parameters of the method (e.g. normalize: 0, lambda: 1); the rest take the method's defaults.</summary>
    public IReadOnlyDictionary<string, double> Globals { get; init; } = new Dictionary<string, double>();
    /// <summary>The interval each parameter is searched in; genome coordinate 0..1 maps linearly onto it.</summary>
    public IReadOnlyDictionary<string, ParameterRange> Ranges { get; init; } = new Dictionary<string, ParameterRange>();

    /// <summary>
    /// Naive merges scored on the test split next to the sources and the result, for comparison: each gives one value
    /// per evolved parameter, used for every model and group (e.g. weight 1, density 0.5: uniform DARE-TIES).
    /// </summary>
    public IReadOnlyList<IReadOnlyDictionary<string, double>> Baselines { get; init; } = [];

    /// <summary>
    /// Where the search starts: one { parameter: value } map per source model, used for every group (e.g. the best
    /// point of a cheap grid). Absent: the middle of every range (the paper's start, 0.5 in [0,1]).
    /// </summary>
    public IReadOnlyList<IReadOnlyDictionary<string, double>>? Start { get; init; }

    /// <summary>The range of a parameter: configured, or the default (weight [0,1], density [0.01,1], others [0,1]).</summary>
    public ParameterRange RangeOf(string parameter) =>
        Ranges.TryGetValue(parameter, out var r) ? r
        : parameter == "density" ? new ParameterRange(0.01, 1) : new ParameterRange(0, 1);
}

public readonly record struct ParameterRange(double Min, double Max)
{
    public double FromUnit(double u) => Min + Math.Clamp(u, 0, 1) * (Max - Min);
    public double ToUnit(double value) => Max == Min ? 0.5 : Math.Clamp((value - Min) / (Max - Min), 0, 1);
}

/// <summary>Data-flow-space search: which layers a token passes through, and the scales between models.</summary>
public sealed record DfsConfig
{
    /// <summary>Times the layers of all models are laid out: T = (total layers) · repeats slots.</summary>
    public int Repeats { get; init; } = 3;
    /// <summary>The longest path allowed, end layers included; when more slots are on, the strongest indicators win.</summary>
    public int? MaxPathLength { get; init; }
    /// <summary>Supplies embeddings, final norm, LM head and tokenizer (default: the first DFS model; in ps+dfs the PS result).</summary>
    public string? ModelA { get; init; }
    /// <summary>Layer sources besides model A (default: <see cref="EvolutionConfig.Models"/> minus model A).</summary>
    public IReadOnlyList<string>? Models { get; init; }
    public DfsScales Scales { get; init; } = DfsScales.ModelPair;
    /// <summary>Upper end of a scale's range [0, max]; the start point 0.5 maps to max/2 (1 with the default 2).</summary>
    public double ScaleMax { get; init; } = 2;
    /// <summary>Keep model A's first and last layers at the ends of every path (the paper's 7B→10B setting).</summary>
    public bool FixEnds { get; init; } = true;
}

/// <summary>How the scales on the hidden state between path steps are parameterised.</summary>
public enum DfsScales
{
    /// <summary>
    /// K×K over the K models (the default, smaller than the paper's): W[i,j] scales the input of a layer of model j
    /// when the previous step was a layer of model i (model A's embeddings before the first step).
    /// </summary>
    ModelPair,
    /// <summary>The paper's M×M over all M laid-out layers: W[i,j] scales the input of layer j after layer i (first step: 1).</summary>
    LayerPair,
    /// <summary>One scale per slot (T values), as the miniature prototype used; fixed end layers get 1.</summary>
    PerSlot,
    /// <summary>Every scale is 1 (a plain frankenmerge path).</summary>
    None,
}

public sealed record OptimizerConfig
{
    /// <summary>cma-es, cma-es-diagonal, random, nsga-ii (see <c>OptimizerFactory.Names</c>) or m2n2 (steady state, <see cref="M2n2.M2n2Config"/>).</summary>
    public string Name { get; init; } = "cma-es";
    /// <summary>Candidates per generation (default 4 + ⌊3 ln n⌋).</summary>
    public int? Population { get; init; }
    /// <summary>Generations to run (per stage in ps+dfs); at least one of this and <see cref="MaxEvaluations"/> is set.</summary>
    public int? Generations { get; init; }
    /// <summary>Evaluations to run (per stage); the last generation is completed.</summary>
    public int? MaxEvaluations { get; init; }
    public double Sigma0 { get; init; } = 1.0 / 6;
    /// <summary>IPOP restarts with growing population when CMA-ES converges.</summary>
    public bool Restarts { get; init; }
    /// <summary>The settings of <c>m2n2</c> (read from the same block; see docs/optimizers.md).</summary>
    public M2n2.M2n2Config M2n2 { get; init; } = new();
}

/// <summary>
/// One evaluation task on one data file, the fields being the evaluation engine's (see docs/eval.md); or, with
/// <see cref="Command"/>, an external program that scores each candidate's model folder (docs/evolution.md).
/// </summary>
public sealed record TaskConfig
{
    /// <summary>The task kind name for a command task.</summary>
    public const string CommandTask = "command";

    /// <summary>mgsm, gsm8k, choice, perplexity, jsonl, or <see cref="CommandTask"/>.</summary>
    public required string Task { get; init; }
    /// <summary>The data file (empty for a command task).</summary>
    public required string Data { get; init; }
    /// <summary>A command task's program, timeout and failure policy; null for the evaluation engine's tasks.</summary>
    public ScorerCommand? Command { get; init; }

    /// <summary>A command task with the given command and weight.</summary>
    public static TaskConfig Of(ScorerCommand command, double weight = 1) => new() { Task = CommandTask, Data = "", Command = command, Weight = weight };
    /// <summary>Language gate: an answer counts only when the reply is in this language (e.g. ja).</summary>
    public string? Language { get; init; }
    public int? MaxNewTokens { get; init; }
    /// <summary>Score a fresh random minibatch of this many items per generation instead of the whole file.</summary>
    public int? Minibatch { get; init; }
    /// <summary>Use only the first N items of the file.</summary>
    public int? Limit { get; init; }
    /// <summary>Weight of this task in the fitness sum.</summary>
    public double Weight { get; init; } = 1;
    /// <summary>Few-shot exemplars before each question.</summary>
    public int Shots { get; init; }
    /// <summary>Prompt template with {field} slots (required by jsonl tasks).</summary>
    public string? Template { get; init; }
    /// <summary>jsonl tasks: exact, number, regex or choice.</summary>
    public string? Match { get; init; }
    /// <summary>jsonl tasks with match regex: the answer-extraction pattern.</summary>
    public string? Regex { get; init; }
    /// <summary>jsonl tasks: the field holding the gold answer (default "answer").</summary>
    public string? AnswerField { get; init; }
    /// <summary>perplexity tasks: characters scored per window, and characters of context before each (default 1024 each).</summary>
    public int? WindowChars { get; init; }
    public int? ContextChars { get; init; }
    /// <summary>vqa tasks: how ROUGE-L splits answers, char (default) or mecab.</summary>
    public string? Tokenizer { get; init; }
    /// <summary>vqa tasks: beam search width (EvoVLM-JP: 5) and repetition penalty (EvoVLM-JP: 1.5).</summary>
    public int? NumBeams { get; init; }
    public double? RepetitionPenalty { get; init; }
}
