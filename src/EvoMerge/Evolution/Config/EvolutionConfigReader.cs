using EvoMerge.Evaluation.External;
using EvoMerge.Evolution.M2n2;
using EvoMerge.Evolution.Optimizers;
using EvoMerge.Lora.Folding;
using EvoMerge.Merge.Methods;
using YamlDotNet.RepresentationModel;

namespace EvoMerge.Evolution.Config;

/// <summary>
/// Reads <c>evolve.yml</c> into an <see cref="EvolutionConfig"/>. Unknown keys are rejected with the nearest valid
/// name; every error names the file, the line and the key. The schema is documented in docs/evolution.md.
/// </summary>
public static class EvolutionConfigReader
{
    static readonly string[] TopKeys =
        ["name", "seed", "base_model", "models", "space", "ps", "dfs", "optimizer", "fitness", "test", "rescore_top"];
    static readonly string[] PsKeys =
        ["method", "layer_groups", "embeddings_group", "head_group", "split_attention_mlp", "parameters", "ranges", "globals", "baselines", "start", "components", "loras"];
    static readonly string[] DfsKeys = ["repeats", "max_path_length", "model_a", "models", "scales", "scale_max", "fix_ends"];
    static readonly string[] M2n2Keys = ["archive_size", "alpha", "attraction", "split_points", "mutation", "mutation_std", "in_flight"];
    static readonly string[] OptimizerKeys = ["name", "population", "generations", "max_evaluations", "sigma0", "restarts", .. M2n2Keys];
    static readonly string[] TaskKeys =
        ["task", "data", "language", "max_new_tokens", "minibatch", "limit", "weight", "shots", "template", "match", "regex", "answer_field",
         "window_chars", "context_chars", "tokenizer", "num_beams", "repetition_penalty"];
    static readonly string[] CommandKeys = ["command", "timeout", "retries", "policy", "skip_score", "weight"];

    public static EvolutionConfig ReadFile(string path)
    {
        return Parse(YamlText.ReadFile(path, "config file"), path, Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <param name="fileName">Named in error messages.</param>
    /// <param name="baseDirectory">Relative model and data paths are resolved against it.</param>
    public static EvolutionConfig Parse(string yaml, string fileName, string baseDirectory)
    {
        var root = YamlText.ParseSingle(yaml, fileName, "an evolution config is one document")
            ?? throw new EvoMergeException($"{fileName}: the file is empty");
        var top = new YamlFields(fileName, "", root, TopKeys);
        var config = new EvolutionConfig
        {
            Name = top.String("name"),
            Seed = top.Has("seed") ? top.Int("seed") : 0,
            BaseModel = top.OptionalString("base_model"),
            Models = top.Strings("models"),
            Space = top.Has("space") ? ParseSpace(top.Choice("space", "ps", "dfs", "ps+dfs")) : SearchSpaceKind.Ps,
            Ps = top.Has("ps") ? ReadPs(top.Map("ps", PsKeys)) : new PsConfig(),
            Dfs = top.Has("dfs") ? ReadDfs(top.Map("dfs", DfsKeys)) : new DfsConfig(),
            Optimizer = top.Has("optimizer") ? ReadOptimizer(top.Map("optimizer", OptimizerKeys)) : new OptimizerConfig(),
            Fitness = ReadTasks(top, "fitness"),
            Test = top.Has("test") ? ReadTasks(top, "test") : [],
            RescoreTop = top.Has("rescore_top") ? top.Int("rescore_top", min: 0) : 1,
            BaseDirectory = baseDirectory,
        };
        Validate(config, fileName);
        return config;
    }

    /// <summary>Checks that hold for configs built in code too (the demo builds its own).</summary>
    public static void Validate(EvolutionConfig c, string fileName)
    {
        void Require(bool ok, string message) { if (!ok) throw new EvoMergeException($"{fileName}: {message}"); }
        Require(c.Models.Count >= 1, "'models' must list at least one model");
        // model+lora sources are folded when the evaluator loads them; a malformed reference fails here.
        foreach (var m in c.Models.Append(c.BaseModel ?? "").Concat(c.Dfs.Models ?? []).Append(c.Dfs.ModelA ?? "").Where(m => m.Length > 0))
        {
            try { LoraReference.Split(m); }
            catch (EvoMergeException e) { Require(false, e.Message); }
        }
        Require(c.Fitness.Count >= 1, "'fitness' must list at least one task");
        Require(c.Optimizer.Generations is > 0 || c.Optimizer.MaxEvaluations is > 0,
            "'optimizer' needs 'generations' or 'max_evaluations' (a positive integer)");
        Require(c.Optimizer.Population is null or (>= 2 and <= SanityBounds.MaxPopulation),
            $"'optimizer.population' must be from 2 to {SanityBounds.MaxPopulation}");
        var optimizers = OptimizerFactory.Names.Concat(OptimizerFactory.MultiObjectiveNames).Append(M2n2Name).ToList();
        Require(optimizers.Contains(c.Optimizer.Name),
            $"'optimizer.name': unknown optimiser '{c.Optimizer.Name}'{NearestName.Suggest(c.Optimizer.Name, optimizers)}; expected one of {string.Join(", ", optimizers)}");
        Require(!OptimizerFactory.MultiObjectiveNames.Contains(c.Optimizer.Name) || c.Fitness.Count >= 2,
            $"'optimizer.name': {c.Optimizer.Name} optimises one objective per fitness entry; list at least two");
        Require(c.Optimizer.Sigma0 > 0, "'optimizer.sigma0' must be positive");
        if (c.Optimizer.Name == M2n2Name) ValidateM2n2(c, Require);
        Require(c.Ps.Loras.Count == 0 || c.Optimizer.Name != M2n2Name,
            "'ps.loras' folds into PS merges; m2n2's blends do not take it (give the sources as model+lora instead)");
        Require(c.Ps.Loras.Count == 0 || c.Space != SearchSpaceKind.Dfs, "'ps.loras' needs a ps stage (space: ps or ps+dfs)");
        if (c.Space != SearchSpaceKind.Dfs)
        {
            Require(c.Models.Count >= 2 || c.BaseModel != null, "'ps' needs two models, or one model and 'base_model'");
            Require(c.Ps.LayerGroups is >= 1 and <= SanityBounds.MaxLayers, $"'ps.layer_groups' must be from 1 to {SanityBounds.MaxLayers}");
            Require(c.Ps.Parameters.Count >= 1, "'ps.parameters' must name at least one parameter (e.g. weight, density)");
            Require(MergeMethods.All.Any(m => m.Name == c.Ps.Method),
                $"'ps.method': unknown merge method '{c.Ps.Method}'{NearestName.Suggest(c.Ps.Method, MergeMethods.All.Select(m => m.Name))}");
            var method = MergeMethods.Get(c.Ps.Method);
            var perModel = method.ModelParameters.Select(p => p.Name).ToList();
            foreach (var name in c.Ps.Parameters)
                Require(perModel.Contains(name),
                    $"'ps.parameters': {method.Name} has no per-model parameter '{name}'{NearestName.Suggest(name, perModel)}; it has: {string.Join(", ", perModel)}");
            var global = method.GlobalParameters.Select(p => p.Name).ToList();
            foreach (var name in c.Ps.Globals.Keys)
                Require(global.Contains(name),
                    $"'ps.globals': {method.Name} has no global parameter '{name}'{NearestName.Suggest(name, global)}; it has: {string.Join(", ", global)}");
            foreach (var baseline in c.Ps.Baselines)
                Require(baseline.Keys.Order().SequenceEqual(c.Ps.Parameters.Order()),
                    $"'ps.baselines': each baseline gives exactly the evolved parameters ({string.Join(", ", c.Ps.Parameters)}); got {string.Join(", ", baseline.Keys)}");
            foreach (var (name, r) in c.Ps.Ranges)
            {
                Require(c.Ps.Parameters.Contains(name),
                    $"'ps.ranges.{name}' is not an evolved parameter{NearestName.Suggest(name, c.Ps.Parameters)}; evolved: {string.Join(", ", c.Ps.Parameters)}");
                Require(r.Min <= r.Max, $"'ps.ranges.{name}' must be [min, max] with min ≤ max");
            }
        }
        if (c.Space != SearchSpaceKind.Ps)
        {
            Require(c.Dfs.Repeats is >= 1 and <= MaxRepeats, $"'dfs.repeats' must be from 1 to {MaxRepeats}");
            Require(c.Dfs.MaxPathLength is null or (>= 1 and <= SanityBounds.MaxLayers), $"'dfs.max_path_length' must be from 1 to {SanityBounds.MaxLayers}");
            Require(c.Dfs.ScaleMax > 0, "'dfs.scale_max' must be positive");
        }
        foreach (var t in c.Fitness.Concat(c.Test))
        {
            if (t.Command is { } command)
            {
                Require(t.Task == TaskConfig.CommandTask && t.Minibatch is null && t.Limit is null,
                    $"fitness command '{command.Text}': minibatch and limit do not apply (the program chooses its items)");
                if (command.Problem() is var (key, message)) Require(false, $"fitness command '{command.Text}': '{key}' {message}");
                continue;
            }
            Require(t.Minibatch is null or >= 1, $"task '{t.Task}': 'minibatch' must be at least 1");
            Require(t.Limit is null or >= 1, $"task '{t.Task}': 'limit' must be at least 1");
        }
    }

    /// <summary>The paper repeats the layer sequence 3 times; a DFS genome grows with repeats × layers.</summary>
    const int MaxRepeats = 1_000;

    /// <summary>The steady-state optimiser's name; it searches blends of the sources, not the unit box (see M2n2Optimizer).</summary>
    public const string M2n2Name = "m2n2";

    static void ValidateM2n2(EvolutionConfig c, Action<bool, string> require)
    {
        var m = c.Optimizer.M2n2;
        require(c.Space == SearchSpaceKind.Ps, "'optimizer.name': m2n2 searches the parameter space only; use 'space: ps'");
        require(c.Optimizer.MaxEvaluations is > 0, "'optimizer.max_evaluations': m2n2 is steady state (no generations); give its budget in evaluations");
        require(c.Optimizer.Generations is null && c.Optimizer.Population is null && !c.Optimizer.Restarts,
            "'optimizer': m2n2 has no generations, population or restarts; its settings are archive_size, alpha, attraction, split_points, mutation, mutation_std, in_flight");
        require(c.Models.Count >= 2, "'models': m2n2 needs at least two source models to combine");
        require(m.ArchiveSize >= c.Models.Count && m.ArchiveSize <= SanityBounds.MaxPopulation,
            $"'optimizer.archive_size' must be from {c.Models.Count} (the source models) to {SanityBounds.MaxPopulation}");
        require(m.Alpha >= 0 && double.IsFinite(m.Alpha), "'optimizer.alpha' must be a number ≥ 0 (1: full fitness sharing, 0: a plain GA)");
        require(m.MutationStd >= 0, "'optimizer.mutation_std' must be ≥ 0");
        require(m.InFlight is >= 1 and <= SanityBounds.MaxPopulation, $"'optimizer.in_flight' must be from 1 to {SanityBounds.MaxPopulation}");
        foreach (var t in c.Fitness)
        {
            require(t.Minibatch is null, $"task '{t.Task}': m2n2 compares every archive member item by item on the same items; remove 'minibatch' (use 'limit')");
            require(t.Weight > 0, $"task '{t.Task}': m2n2 treats each item as a resource worth weight ÷ items; 'weight' must be positive");
        }
    }

    static SearchSpaceKind ParseSpace(string s) => s switch
    {
        "ps" => SearchSpaceKind.Ps,
        "dfs" => SearchSpaceKind.Dfs,
        _ => SearchSpaceKind.PsThenDfs,
    };

    static PsConfig ReadPs(YamlFields f)
    {
        var ranges = new Dictionary<string, ParameterRange>();
        if (f.Has("ranges"))
        {
            var rangeFields = f.Map("ranges", f.KeysOf("ranges").ToArray());
            foreach (var name in f.KeysOf("ranges"))
            {
                var pair = rangeFields.Doubles(name);
                if (pair.Count != 2) throw rangeFields.Error(rangeFields.Node(name), $"'{rangeFields.Qualify(name)}' must be [min, max]");
                ranges[name] = new ParameterRange(pair[0], pair[1]);
            }
        }
        return new PsConfig
        {
            Method = f.OptionalString("method") ?? "dare_ties",
            LayerGroups = f.OptionalInt("layer_groups", min: 1) ?? 1,
            EmbeddingsGroup = f.Has("embeddings_group") ? f.Bool("embeddings_group") : null,
            HeadGroup = f.Has("head_group") && f.Bool("head_group"),
            SplitAttentionMlp = f.Has("split_attention_mlp") && f.Bool("split_attention_mlp"),
            Parameters = f.Has("parameters") ? f.Strings("parameters") : ["weight", "density"],
            Ranges = ranges,
            Baselines = ParameterMaps(f, "baselines"),
            Start = f.Has("start") ? ParameterMaps(f, "start") : null,
            Components = f.Has("components")
                ? f.KeysOf("components").ToDictionary(k => k, k => f.Map("components", f.KeysOf("components").ToArray()).String(k))
                : new Dictionary<string, string>(),
            Globals = f.Has("globals")
                ? f.KeysOf("globals").ToDictionary(k => k, k => f.Map("globals", f.KeysOf("globals").ToArray()).Double(k))
                : new Dictionary<string, double>(),
            Loras = f.Has("loras") ? ReadLoras(f) : [],
        };
    }

    /// <summary>ps.loras: each entry a path (strength 1) or <c>{path, strength}</c>, as a recipe's <c>loras:</c>.</summary>
    static IReadOnlyList<Merge.Recipes.WeightedLora> ReadLoras(YamlFields f) => f.Sequence("loras").Select((node, i) =>
    {
        if (node is YamlScalarNode { Value: { Length: > 0 } path }) return new Merge.Recipes.WeightedLora(path, 1);
        var entry = f.Child(f.Qualify($"loras[{i}]"), node, "path", "strength");
        return new Merge.Recipes.WeightedLora(entry.String("path"), entry.Has("strength") ? entry.Double("strength") : 1);
    }).ToList();

    /// <summary>A list of { parameter: value } maps (ps.baselines, ps.start); empty when the key is absent.</summary>
    static IReadOnlyList<IReadOnlyDictionary<string, double>> ParameterMaps(YamlFields f, string key) => f.Has(key)
        ? f.Sequence(key).Select((node, i) =>
        {
            var names = node is YamlDotNet.RepresentationModel.YamlMappingNode m ? m.Children.Keys.Select(k => k.ToString()).ToArray() : [];
            var values = f.Child(f.Qualify($"{key}[{i}]"), node, names);
            return (IReadOnlyDictionary<string, double>)names.ToDictionary(n => n, values.Double);
        }).ToList()
        : [];

    static DfsConfig ReadDfs(YamlFields f) => new()
    {
        Repeats = f.OptionalInt("repeats", min: 1) ?? 3,
        MaxPathLength = f.OptionalInt("max_path_length", min: 1),
        ModelA = f.OptionalString("model_a"),
        Models = f.Has("models") ? f.Strings("models") : null,
        Scales = f.Has("scales")
            ? f.Choice("scales", "model_pair", "layer_pair", "per_slot", "none") switch
            {
                "model_pair" => DfsScales.ModelPair,
                "layer_pair" => DfsScales.LayerPair,
                "per_slot" => DfsScales.PerSlot,
                _ => DfsScales.None,
            }
            : DfsScales.ModelPair,
        ScaleMax = f.Has("scale_max") ? f.Double("scale_max") : 2,
        FixEnds = !f.Has("fix_ends") || f.Bool("fix_ends"),
    };

    static OptimizerConfig ReadOptimizer(YamlFields f) => new()
    {
        Name = f.OptionalString("name") ?? "cma-es",
        Population = f.OptionalInt("population", min: 2),
        Generations = f.OptionalInt("generations", min: 1),
        MaxEvaluations = f.OptionalInt("max_evaluations", min: 1),
        Sigma0 = f.Has("sigma0") ? f.Double("sigma0") : 1.0 / 6,
        Restarts = f.Has("restarts") && f.Bool("restarts"),
        M2n2 = ReadM2n2(f),
    };

    static M2n2Config ReadM2n2(YamlFields f)
    {
        var given = M2n2Keys.FirstOrDefault(f.Has);
        if (given != null && (f.OptionalString("name") ?? "cma-es") != M2n2Name)
            throw f.Error(f.Node(given), $"'{f.Qualify(given)}' is a setting of m2n2; set 'name: m2n2' or remove it");
        var d = new M2n2Config();
        return new M2n2Config
        {
            ArchiveSize = f.OptionalInt("archive_size", min: 2) ?? d.ArchiveSize,
            Alpha = f.Has("alpha") ? f.Double("alpha") : d.Alpha,
            Attraction = f.Has("attraction") ? f.Bool("attraction") : d.Attraction,
            SplitPoints = f.Has("split_points")
                ? f.Choice("split_points", "parameter", "tensor", "none") switch
                {
                    "parameter" => SplitPoints.Parameter,
                    "tensor" => SplitPoints.Tensor,
                    _ => SplitPoints.None,
                }
                : d.SplitPoints,
            Mutation = f.Has("mutation") ? f.Bool("mutation") : d.Mutation,
            MutationStd = f.Has("mutation_std") ? f.Double("mutation_std") : d.MutationStd,
            InFlight = f.OptionalInt("in_flight", min: 1) ?? d.InFlight,
        };
    }

    static IReadOnlyList<TaskConfig> ReadTasks(YamlFields top, string key) => top.Sequence(key)
        .Select((node, i) =>
        {
            if (node is YamlMappingNode map && map.Children.ContainsKey(new YamlScalarNode("command")))
                return ReadCommandTask(top.Child($"{key}[{i}]", node, CommandKeys));
            var f = top.Child($"{key}[{i}]", node, TaskKeys);
            return new TaskConfig
            {
                Task = f.Choice("task", TaskSpecs.Kinds),
                Data = f.String("data"),
                Language = f.OptionalString("language"),
                MaxNewTokens = f.OptionalInt("max_new_tokens", min: 1),
                Minibatch = f.OptionalInt("minibatch", min: 1),
                Limit = f.OptionalInt("limit", min: 1),
                Weight = f.Has("weight") ? f.Double("weight") : 1,
                Shots = f.OptionalInt("shots", min: 0) ?? 0,
                Template = f.OptionalString("template"),
                Match = f.Has("match") ? f.Choice("match", "exact", "number", "regex", "choice") : null,
                Regex = f.OptionalString("regex"),
                AnswerField = f.OptionalString("answer_field"),
                WindowChars = f.OptionalInt("window_chars", min: 1),
                ContextChars = f.OptionalInt("context_chars", min: 0),
                Tokenizer = f.Has("tokenizer") ? f.Choice("tokenizer", "char", "mecab") : null,
                NumBeams = f.OptionalInt("num_beams", min: 1),
                RepetitionPenalty = f.Has("repetition_penalty") ? RepetitionPenalty(f) : null,
            };
        })
        .ToList();

    /// <summary>A positive factor (1 = none; EvoVLM-JP's evaluation: 1.5): the penalty divides positive scores and multiplies negative ones.</summary>
    static double RepetitionPenalty(YamlFields f) => f.Double("repetition_penalty") is var p && p > 0 ? p
        : throw f.Error(f.Node("repetition_penalty"), $"'{f.Qualify("repetition_penalty")}' must be positive (1 = no penalty, 1.5 as in EvoVLM-JP's evaluation), got {p.ToString(System.Globalization.CultureInfo.InvariantCulture)}");

    /// <summary>
    /// A fitness command: <c>command</c> as one string (split like a shell splits words, but never run by one) or as
    /// a list of arguments; <c>timeout</c> in seconds; <c>policy</c> fail, retry or skip (default: fail, or retry
    /// when <c>retries</c> is given); <c>retries</c> (default 1 with retry, else 0); <c>skip_score</c> with skip.
    /// </summary>
    static TaskConfig ReadCommandTask(YamlFields f)
    {
        var node = f.Node("command");
        IReadOnlyList<string> arguments;
        if (node is YamlSequenceNode) arguments = f.Strings("command");
        else
        {
            try { arguments = CommandLine.Split(f.String("command")); }
            catch (FormatException e) { throw f.Error(node, $"'{f.Qualify("command")}': {e.Message}"); }
        }
        var policy = f.Has("policy")
            ? f.Choice("policy", "fail", "retry", "skip") switch { "fail" => FailurePolicy.Fail, "retry" => FailurePolicy.Retry, _ => FailurePolicy.Skip }
            : f.Has("retries") ? FailurePolicy.Retry : FailurePolicy.Fail;
        var command = new ScorerCommand(arguments,
            TimeoutSeconds: f.Has("timeout") ? f.Double("timeout") : ScorerCommand.DefaultTimeoutSeconds,
            Retries: f.OptionalInt("retries", min: 0) ?? (policy == FailurePolicy.Retry ? 1 : 0),
            Policy: policy,
            SkipScore: f.Has("skip_score") ? f.Double("skip_score") : null);
        if (command.Problem() is var (key, message))
        {
            string at = f.Has(key) ? key : "command";
            throw f.Error(f.Node(at), $"'{f.Qualify(key)}' {message}");
        }
        return TaskConfig.Of(command, f.Has("weight") ? f.Double("weight") : 1);
    }
}
