using System.Globalization;
using EvoMerge.Merge.Recipes;
using YamlDotNet.RepresentationModel;

namespace EvoMerge.Moe;

/// <summary>
/// Reads a mergekit-moe YAML file into a <see cref="MoeConfig"/> and refuses, with file, line and field, what
/// mergekit-moe refuses before it loads a model (<c>is_bad_config</c>): fewer experts than experts per token,
/// an expert without positive prompts when the gates come from prompts, the same prompts for every expert.
/// Unknown fields are warnings naming the nearest valid one (mergekit ignores them).
/// </summary>
public static class MoeConfigParser
{
    static readonly string[] TopLevelKeys = ["base_model", "experts", "gate_mode", "dtype", "experts_per_token", "shared_experts", "architecture"];
    static readonly string[] ExpertKeys = ["source_model", "positive_prompts", "negative_prompts", "noise_scale", "residual_scale"];

    /// <summary>The <c>gate_mode</c> spellings mergekit-moe accepts.</summary>
    public static readonly IReadOnlyDictionary<string, GateMode> GateModes = new Dictionary<string, GateMode>
    {
        ["hidden"] = GateMode.Hidden, ["hidden_last"] = GateMode.Hidden, ["hidden_avg"] = GateMode.HiddenAvg,
        ["cheap_embed"] = GateMode.CheapEmbed, ["random"] = GateMode.Random, ["uniform_random"] = GateMode.UniformRandom,
    };

    static IO.DType? OutputDType(string name)
    {
        try { return UserChoices.DType(name, "dtype"); }
        catch (EvoMergeException) { return null; }
    }

    public static MoeConfig Load(string path) => Parse(YamlText.ReadFile(path, "MoE config"), path);

    public static MoeConfig Parse(string text, string file)
    {
        var root = YamlText.ParseSingle(text, file, "a MoE config is one document") switch
        {
            null => throw new EvoMergeException($"{file}:1:1: the MoE config is empty; expected base_model, gate_mode and experts"),
            YamlMappingNode m => m,
            var other => throw new EvoMergeException($"{YamlText.Mark(file, other)}: expected a mapping with base_model, gate_mode and experts"),
        };
        var warnings = new List<string>();
        RecipeMark Mark(YamlNode n) => new(file, (int)n.Start.Line, (int)n.Start.Column);
        EvoMergeException Error(YamlNode n, string message) => new($"{Mark(n)}: {message}");
        string Key(YamlNode k) => k is YamlScalarNode s ? s.Value ?? "" : throw Error(k, "expected a field name");
        YamlNode? Field(YamlMappingNode map, string name) => map.Children.FirstOrDefault(kv => kv.Key is YamlScalarNode k && k.Value == name).Value;
        string Text(YamlNode n, string field) => n is YamlScalarNode { Value: { Length: > 0 } v } ? v : throw Error(n, $"{field}: expected a text value");
        string ModelText(YamlNode n, string field) =>
            n is YamlMappingNode m && Field(m, "model") is { } inner ? ModelText(inner, field) : Text(n, field);
        double Number(YamlNode n, string field) =>
            n is YamlScalarNode { Value: { } v } && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d)
                ? d : throw Error(n, $"{field}: expected a finite number");
        List<string> Prompts(YamlNode? n, string field)
        {
            if (n == null || n is YamlScalarNode { Value: null or "" or "null" or "~" }) return [];
            if (n is not YamlSequenceNode seq) throw Error(n, $"{field}: expected a list of prompts");
            // An empty prompt is allowed: it is the BOS token alone, as in mergekit.
            return seq.Children.Select(c => c is YamlScalarNode s ? s.Value ?? "" : throw Error(c, $"{field}: expected text")).ToList();
        }

        foreach (var (key, _) in root.Children)
        {
            string name = Key(key);
            if (!TopLevelKeys.Contains(name))
                warnings.Add($"{Mark(key)}: unknown field '{name}' is ignored, as mergekit-moe ignores it{NearestName.Suggest(name, TopLevelKeys)}");
        }
        if (Field(root, "shared_experts") is YamlSequenceNode { Children.Count: > 0 } shared)
            throw Error(shared, "shared_experts: the Mixtral output has no shared experts (mergekit writes those only for Qwen MoE / DeepSeek)");
        if (Field(root, "architecture") is { } arch && !"mixtral".StartsWith(Text(arch, "architecture").ToLowerInvariant(), StringComparison.Ordinal))
            throw Error(arch, $"architecture: '{Text(arch, "architecture")}' is not supported; EvoMerge writes Mixtral (architecture: mixtral)");

        var baseNode = Field(root, "base_model") ?? throw Error(root, "base_model is missing (the model that gives attention, norms and embeddings)");
        var gateNode = Field(root, "gate_mode");
        var mode = GateMode.Hidden;
        if (gateNode != null)
        {
            string g = Text(gateNode, "gate_mode");
            if (!GateModes.TryGetValue(g, out mode))
                throw Error(gateNode, $"gate_mode: unknown mode '{g}'; expected one of {string.Join(", ", GateModes.Keys)}{NearestName.Suggest(g, GateModes.Keys)}");
        }
        int perToken = 2;
        if (Field(root, "experts_per_token") is { } kNode)
        {
            double k = Number(kNode, "experts_per_token");
            if (k < 1 || k != Math.Floor(k) || k > 1024) throw Error(kNode, $"experts_per_token: expected a whole number of at least 1, got {Text(kNode, "experts_per_token")}");
            perToken = (int)k;
        }

        var expertsNode = Field(root, "experts") ?? throw Error(root, "experts is missing (a list of {source_model, positive_prompts})");
        if (expertsNode is not YamlSequenceNode expertList || expertList.Children.Count == 0)
            throw Error(expertsNode, "experts: expected a non-empty list of {source_model, positive_prompts}");
        var experts = new List<MoeExpert>();
        foreach (var (node, index) in expertList.Children.Select((n, i) => (n, i)))
        {
            var map = node as YamlMappingNode ?? throw Error(node, $"experts[{index}]: expected a mapping with source_model and positive_prompts");
            foreach (var (key, _) in map.Children)
                if (!ExpertKeys.Contains(Key(key)))
                    warnings.Add($"{Mark(key)}: experts[{index}]: unknown field '{Key(key)}' is ignored, as mergekit-moe ignores it{NearestName.Suggest(Key(key), ExpertKeys)}");
            var source = Field(map, "source_model") ?? throw Error(node, $"experts[{index}]: source_model is missing");
            double? Optional(string field) => Field(map, field) is { } n ? Number(n, $"experts[{index}].{field}") : null;
            var expert = new MoeExpert(ModelText(source, $"experts[{index}].source_model"), Mark(source),
                Prompts(Field(map, "positive_prompts"), $"experts[{index}].positive_prompts"),
                Prompts(Field(map, "negative_prompts"), $"experts[{index}].negative_prompts"),
                Optional("noise_scale"), Optional("residual_scale"));
            if (expert.NoiseScale < 0) throw Error(Field(map, "noise_scale")!, $"experts[{index}].noise_scale: expected a number ≥ 0");
            bool fromPrompts = mode is GateMode.Hidden or GateMode.HiddenAvg or GateMode.CheapEmbed;
            if (fromPrompts && expert.PositivePrompts.Count == 0)
            {
                // A misspelt field is the likely cause: name it here, since the warnings are not printed after an error.
                string typo = map.Children.Keys.Select(Key).Where(k => !ExpertKeys.Contains(k))
                    .Select(k => NearestName.Suggest(k, ["positive_prompts"]) is { Length: > 0 } hint ? $" ('{k}' is not a field{hint})" : "")
                    .FirstOrDefault(h => h.Length > 0) ?? "";
                throw Error(node, $"experts[{index}]: no positive_prompts{typo}; gate_mode {(gateNode == null ? "hidden" : Text(gateNode, "gate_mode"))} " +
                    "builds each expert's router row from its prompts (or use gate_mode: random)");
            }
            experts.Add(expert);
        }
        if (experts.Count < perToken)
            throw Error(Field(root, "experts_per_token") ?? expertsNode,
                $"experts_per_token is {perToken} but there are only {experts.Count} expert(s); each token needs that many experts");
        if (mode is GateMode.Hidden or GateMode.HiddenAvg or GateMode.CheapEmbed && experts.Count > 1
            && experts.Skip(1).All(e => e.PositivePrompts.SequenceEqual(experts[0].PositivePrompts) && e.NegativePrompts.SequenceEqual(experts[0].NegativePrompts)))
            throw Error(expertsNode, "every expert has the same positive and negative prompts, so every router row would be the same; give each expert prompts of what it should receive");

        var dtypeNode = Field(root, "dtype");
        string? dtype = dtypeNode == null || dtypeNode is YamlScalarNode { Value: null or "" or "null" or "~" } ? null : Text(dtypeNode, "dtype");
        if (dtype != null && OutputDType(dtype) is not (IO.DType.F32 or IO.DType.BF16 or IO.DType.F16))
            throw Error(dtypeNode!, $"dtype: expected float32, bfloat16 or float16, got '{dtype}'");
        return new MoeConfig
        {
            File = file,
            Text = text,
            BaseModel = ModelText(baseNode, "base_model"),
            BaseModelMark = Mark(baseNode),
            Experts = experts,
            GateMode = mode,
            Dtype = dtype,
            DtypeMark = Mark(dtypeNode ?? root),
            ExpertsPerToken = perToken,
            Warnings = warnings,
        };
    }
}
