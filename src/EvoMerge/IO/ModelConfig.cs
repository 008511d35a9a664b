using System.Text.Json;
using System.Text.Json.Nodes;

namespace EvoMerge.IO;

/// <summary>
/// The fields of a Hugging Face <c>config.json</c> that EvoMerge reads, plus the whole document
/// (<see cref="Json"/>) so that a merged model can be written with everything else passed through.
/// Names follow Llama/Mistral/Qwen2; GPT-2 style aliases (n_layer, n_embd, n_head) are accepted.
/// </summary>
public sealed record ModelConfig
{
    /// <summary>The first entry of <c>architectures</c> (e.g. "LlamaForCausalLM"), else null.</summary>
    public string? Architecture { get; init; }
    public string? ModelType { get; init; }
    public int? NumLayers { get; init; }
    public int? HiddenSize { get; init; }
    public int? IntermediateSize { get; init; }
    public int? NumHeads { get; init; }
    /// <summary>Key/value heads (grouped-query attention); equals <see cref="NumHeads"/> when the config omits it.</summary>
    public int? NumKvHeads { get; init; }
    /// <summary>Per-head width: <c>head_dim</c> when given (Gemma), else hidden size / heads.</summary>
    public int? HeadDim { get; init; }
    public int? VocabSize { get; init; }
    public int? MaxPositionEmbeddings { get; init; }
    public bool TieWordEmbeddings { get; init; }
    public double? RopeTheta { get; init; }
    /// <summary>The <c>rope_scaling</c> object as JSON text, or null.</summary>
    public string? RopeScaling { get; init; }
    public double? NormEpsilon { get; init; }
    public string? TorchDType { get; init; }
    /// <summary><c>hidden_act</c> (e.g. "silu").</summary>
    public string? HiddenAct { get; init; }
    /// <summary><c>attention_bias</c>: biases on the attention projections (false when absent, as in transformers).</summary>
    public bool AttentionBias { get; init; }
    /// <summary><c>mlp_bias</c> (false when absent).</summary>
    public bool MlpBias { get; init; }
    /// <summary><c>bos_token_id</c>; the first entry when it is a list.</summary>
    public int? BosTokenId { get; init; }
    /// <summary><c>eos_token_id</c>; the first entry when it is a list (Llama 3.1 lists several).</summary>
    public int? EosTokenId { get; init; }
    /// <summary>Mixtral's <c>num_local_experts</c>: experts per layer (null for a dense model).</summary>
    public int? NumLocalExperts { get; init; }
    /// <summary>Mixtral's <c>num_experts_per_tok</c>: experts each token is routed to.</summary>
    public int? NumExpertsPerToken { get; init; }

    /// <summary>The whole config.json, for passing fields through on write.</summary>
    public required JsonObject Json { get; init; }

    public static ModelConfig Load(string path)
    {
        // Configs are a few kB: the cap refuses a hostile giant (or a link to /dev/zero) while reading.
        var bytes = InputFile.ReadAllBytes(path, InputFile.SmallFileBytes, "config.json");
        JsonNode? node;
        try
        {
            // Duplicate keys are refused: which one wins differs between readers.
            node = JsonNode.Parse(bytes, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false });
            // Serialising once proves every string is valid Unicode (no lone surrogate), so writing it back cannot fail.
            node?.ToJsonString();
        }
        catch (JsonException e) { throw new EvoMergeException($"{path}: not valid JSON ({e.Message})"); }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            throw new EvoMergeException($"{path}: holds a string that is not valid Unicode ({e.Message})");
        }
        if (node is not JsonObject json) throw new EvoMergeException($"{path}: expected a JSON object");
        return FromJson(json, path);
    }

    public static ModelConfig FromJson(JsonObject json, string path)
    {
        int? heads = Int(json, path, "num_attention_heads", "n_head");
        int? hidden = Int(json, path, "hidden_size", "n_embd", "d_model");
        int? layers = Int(json, path, "num_hidden_layers", "n_layer", "num_layers");
        if (layers > SanityBounds.MaxLayers) throw Bad(path, "num_hidden_layers", $"at most {SanityBounds.MaxLayers}, got {layers}");
        string? architecture = null;
        if (json["architectures"] is JsonArray { Count: > 0 } architectures)
            architecture = architectures[0] is JsonValue v && v.TryGetValue(out string? s) ? s : throw Bad(path, "architectures", "an array of strings");
        return new ModelConfig
        {
            Architecture = architecture,
            ModelType = String(json, path, "model_type"),
            NumLayers = layers,
            HiddenSize = hidden,
            IntermediateSize = Int(json, path, "intermediate_size", "n_inner"),
            NumHeads = heads,
            NumKvHeads = Int(json, path, "num_key_value_heads") ?? heads,
            HeadDim = Int(json, path, "head_dim") ?? (heads > 0 ? hidden / heads : null),
            VocabSize = Int(json, path, "vocab_size"),
            MaxPositionEmbeddings = Int(json, path, "max_position_embeddings", "n_positions"),
            TieWordEmbeddings = Bool(json, path, "tie_word_embeddings") ?? TiedByDefault(String(json, path, "model_type"), architecture),
            RopeTheta = Double(json, path, "rope_theta"),
            RopeScaling = json["rope_scaling"] is JsonObject scaling ? scaling.ToJsonString() : null,
            NormEpsilon = Double(json, path, "rms_norm_eps", "layer_norm_eps", "layer_norm_epsilon"),
            TorchDType = String(json, path, "torch_dtype", "dtype"),
            HiddenAct = String(json, path, "hidden_act"),
            AttentionBias = Bool(json, path, "attention_bias") ?? false,
            MlpBias = Bool(json, path, "mlp_bias") ?? false,
            BosTokenId = TokenId(json, path, "bos_token_id"),
            EosTokenId = TokenId(json, path, "eos_token_id"),
            NumLocalExperts = Int(json, path, "num_local_experts"),
            NumExpertsPerToken = Int(json, path, "num_experts_per_tok"),
            Json = json,
        };
    }

    /// <summary>
    /// transformers' default when config.json omits <c>tie_word_embeddings</c>: the base class says true, and the
    /// Llama, Mistral, Mixtral, Qwen2/3 and Phi-3 configs override it to false. The model type decides, else the
    /// architecture (a config with only <c>architectures: [LlamaForCausalLM]</c> is a Llama config).
    /// </summary>
    static bool TiedByDefault(string? modelType, string? architecture) => modelType switch
    {
        "llama" or "mistral" or "mixtral" or "qwen2" or "qwen2_moe" or "qwen3" or "phi3" => false,
        null => architecture is not ("LlamaForCausalLM" or "MistralForCausalLM" or "MixtralForCausalLM" or "Qwen2ForCausalLM"
            or "Qwen2MoeForCausalLM" or "Qwen3ForCausalLM" or "Phi3ForCausalLM"),
        _ => true,
    };

    static int? TokenId(JsonObject json, string path, string name) => json[name] switch
    {
        null => null,
        JsonArray { Count: 0 } => null,
        JsonArray list => list[0] is JsonValue v && v.TryGetValue(out int id) && id >= 0 ? id : throw Bad(path, name, "a token id or a list of token ids"),
        JsonValue v when v.TryGetValue(out int id) && id >= 0 => id,
        _ => throw Bad(path, name, "a token id or a list of token ids"),
    };

    static int? Int(JsonObject json, string path, params string[] names)
    {
        foreach (string name in names)
            if (json[name] is JsonNode node)
                return node is JsonValue v && v.TryGetValue(out int i) && i >= 0 ? i : throw Bad(path, name, "a non-negative integer");
        return null;
    }

    static double? Double(JsonObject json, string path, params string[] names)
    {
        foreach (string name in names)
            if (json[name] is JsonNode node)
                return node is JsonValue v && v.TryGetValue(out double d) ? d : throw Bad(path, name, "a number");
        return null;
    }

    static bool? Bool(JsonObject json, string path, string name) => json[name] switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out bool b) => b,
        _ => throw Bad(path, name, "true or false"),
    };

    static string? String(JsonObject json, string path, params string[] names)
    {
        foreach (string name in names)
            if (json[name] is JsonNode node)
                return node is JsonValue v && v.TryGetValue(out string? s) ? s : throw Bad(path, name, "a string");
        return null;
    }

    static EvoMergeException Bad(string path, string field, string expected) =>
        new($"{path}: field '{field}' must be {expected}");

    /// <summary>Writes <see cref="Json"/> (indented) to <paramref name="path"/>.</summary>
    public void Save(string path) =>
        File.WriteAllText(path, Json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
}
