using System.Text.Json;
using EvoMerge.IO;

namespace EvoMerge.Torch.Model;

/// <summary>
/// The shape of a Llama-family decoder (Llama 1/2/3, Mistral, Qwen2), read from the fields of a Hugging Face
/// <c>config.json</c>. One record covers the family because the three differ only in these numbers and in
/// Qwen2's q/k/v biases.
/// </summary>
public sealed record LlamaConfig
{
    public required int VocabSize { get; init; }
    public required int HiddenSize { get; init; }
    public required int IntermediateSize { get; init; }
    public required int NumLayers { get; init; }
    public required int NumHeads { get; init; }
    public int NumKvHeads { get; init; }
    /// <summary>Per-head width; config.json's <c>head_dim</c> when present, else hidden / heads.</summary>
    public int HeadDim { get; init; }
    public float RmsNormEps { get; init; } = (float)DefaultRmsNormEps;
    public double RopeTheta { get; init; } = DefaultRopeTheta;
    public RopeScaling? RopeScaling { get; init; }
    public bool TieWordEmbeddings { get; init; }
    /// <summary>Biases on the q, k and v projections: always in Qwen2, with <c>attention_bias</c> in Llama.</summary>
    public bool AttentionBias { get; init; }
    /// <summary>A bias on the o projection: Llama's <c>attention_bias</c> covers it, Qwen2 never has one.</summary>
    public bool OutputProjectionBias { get; init; }
    public int MaxPositionEmbeddings { get; init; } = DefaultMaxPositionEmbeddings;

    /// <summary>transformers' LlamaConfig defaults (Mistral's and Qwen2's rms_norm_eps and rope_theta are the same).</summary>
    public const double DefaultRmsNormEps = 1e-6, DefaultRopeTheta = 10000.0;
    public const int DefaultMaxPositionEmbeddings = 2048;
    public int? BosTokenId { get; init; }
    public int? EosTokenId { get; init; }
    /// <summary>Mixtral: experts per layer (its MLP is a <see cref="SparseMoeBlock"/>); 0 for a dense model.</summary>
    public int NumExperts { get; init; }
    /// <summary>Mixtral: experts each token is routed to.</summary>
    public int ExpertsPerToken { get; init; }

    /// <summary>Fills derived defaults and rejects inconsistent shapes; <paramref name="source"/> names the file in errors.</summary>
    public LlamaConfig Validated(string source = "config")
    {
        var c = this with
        {
            NumKvHeads = NumKvHeads > 0 ? NumKvHeads : NumHeads,
            HeadDim = HeadDim > 0 ? HeadDim : (NumHeads > 0 ? HiddenSize / NumHeads : 0),
        };
        void Require(bool ok, string field, string expected)
        {
            if (!ok) throw new EvoMergeException($"{source}: field '{field}' must be {expected}");
        }
        Require(c.VocabSize > 0, "vocab_size", "a positive integer");
        Require(c.HiddenSize > 0, "hidden_size", "a positive integer");
        Require(c.IntermediateSize > 0, "intermediate_size", "a positive integer");
        Require(c.NumLayers > 0, "num_hidden_layers", "a positive integer");
        Require(c.NumHeads > 0, "num_attention_heads", "a positive integer");
        Require(c.NumHeads % c.NumKvHeads == 0, "num_key_value_heads", $"a divisor of num_attention_heads ({c.NumHeads})");
        Require(c.HeadDim % 2 == 0, "head_dim", "even (RoPE rotates pairs of dimensions)");
        Require(c.RmsNormEps > 0, "rms_norm_eps", "positive");
        Require(c.RopeTheta > 0, "rope_theta", "positive");
        Require(c.NumExperts >= 0, "num_local_experts", "a non-negative integer");
        if (c.NumExperts > 0)
            Require(c.ExpertsPerToken >= 1 && c.ExpertsPerToken <= c.NumExperts, "num_experts_per_tok", $"between 1 and num_local_experts ({c.NumExperts})");
        return c;
    }

    /// <summary>Architectures whose config.json this record understands.</summary>
    public static readonly IReadOnlySet<string> SupportedArchitectures = new HashSet<string>
    {
        "LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", MixtralArchitecture,
    };

    public const string MixtralArchitecture = "MixtralForCausalLM";

    /// <summary>transformers' MixtralConfig defaults for absent expert counts.</summary>
    public const int DefaultMixtralExperts = 8, DefaultMixtralExpertsPerToken = 2;

    /// <summary>
    /// The Llama-family shape of a parsed config.json (<see cref="ModelConfig"/>: one parse, one set of defaults).
    /// Defaults for absent fields are transformers' LlamaConfig's: rms_norm_eps 1e-6, rope_theta 10000,
    /// max_position_embeddings 2048, untied embeddings (as <see cref="ModelConfig.TieWordEmbeddings"/> decides).
    /// </summary>
    public static LlamaConfig From(ModelConfig config, string source)
    {
        string? arch = config.Architecture;
        if (arch != null && !SupportedArchitectures.Contains(arch))
            throw new EvoMergeException($"{source}: field 'architectures' is '{arch}'; supported: {string.Join(", ", SupportedArchitectures)}");
        int Need(int? value, string field) => value ?? throw new EvoMergeException($"{source}: field '{field}' is missing or not an integer");
        if (config.HiddenAct is not (null or "silu" or "swish"))
            throw new EvoMergeException($"{source}: field 'hidden_act' is '{config.HiddenAct}'; the Llama family's SwiGLU needs silu");
        if (config.MlpBias) throw new EvoMergeException($"{source}: field 'mlp_bias' is true; MLP biases are not supported");
        bool isQwen2 = arch == "Qwen2ForCausalLM" || config.ModelType == "qwen2";
        bool isMixtral = arch == MixtralArchitecture || config.ModelType == "mixtral";
        RopeScaling? scaling = null;
        if (config.RopeScaling is { } ropeJson)
        {
            using var rope = JsonDocument.Parse(ropeJson);
            scaling = RopeScaling.FromJson(rope.RootElement, source);
        }
        return new LlamaConfig
        {
            VocabSize = Need(config.VocabSize, "vocab_size"),
            HiddenSize = Need(config.HiddenSize, "hidden_size"),
            IntermediateSize = Need(config.IntermediateSize, "intermediate_size"),
            NumLayers = Need(config.NumLayers, "num_hidden_layers"),
            NumHeads = Need(config.NumHeads, "num_attention_heads"),
            NumKvHeads = config.NumKvHeads ?? 0,
            HeadDim = config.HeadDim ?? 0,
            RmsNormEps = (float)(config.NormEpsilon ?? DefaultRmsNormEps),
            RopeTheta = config.RopeTheta ?? DefaultRopeTheta,
            RopeScaling = scaling,
            TieWordEmbeddings = config.TieWordEmbeddings,
            AttentionBias = isQwen2 || config.AttentionBias,
            OutputProjectionBias = !isQwen2 && config.AttentionBias,
            MaxPositionEmbeddings = config.MaxPositionEmbeddings ?? DefaultMaxPositionEmbeddings,
            BosTokenId = config.BosTokenId,
            EosTokenId = config.EosTokenId,
            NumExperts = isMixtral ? config.NumLocalExperts ?? DefaultMixtralExperts : 0,
            ExpertsPerToken = isMixtral ? config.NumExpertsPerToken ?? DefaultMixtralExpertsPerToken : 0,
        }.Validated(source);
    }

    /// <summary>The config.json a Hugging Face loader (and this one) reads back.</summary>
    public string ToJson(string architecture = "LlamaForCausalLM")
    {
        if (NumExperts > 0) architecture = MixtralArchitecture;
        var o = new Dictionary<string, object?>
        {
            ["architectures"] = new[] { architecture },
            ["model_type"] = architecture switch
            {
                "MistralForCausalLM" => "mistral", "Qwen2ForCausalLM" => "qwen2", MixtralArchitecture => "mixtral", _ => "llama",
            },
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["intermediate_size"] = IntermediateSize,
            ["num_hidden_layers"] = NumLayers,
            ["num_attention_heads"] = NumHeads,
            ["num_key_value_heads"] = NumKvHeads,
            ["head_dim"] = HeadDim,
            ["rms_norm_eps"] = RmsNormEps,
            ["rope_theta"] = RopeTheta,
            ["rope_scaling"] = RopeScaling?.ToJsonObject(),
            ["tie_word_embeddings"] = TieWordEmbeddings,
            ["attention_bias"] = AttentionBias,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["hidden_act"] = "silu",
            ["bos_token_id"] = BosTokenId,
            ["eos_token_id"] = EosTokenId,
            ["torch_dtype"] = "float32",
        };
        if (NumExperts > 0)
        {
            o["num_local_experts"] = NumExperts;
            o["num_experts_per_tok"] = ExpertsPerToken;
            o["sliding_window"] = null;
        }
        return JsonSerializer.Serialize(o, new JsonSerializerOptions { WriteIndented = true });
    }

}

/// <summary>
/// RoPE frequency scaling from config.json's <c>rope_scaling</c>: <c>linear</c> (positions divided by the factor)
/// and <c>llama3</c> (Llama 3.1's smooth per-frequency interpolation). Others are rejected rather than ignored.
/// </summary>
public sealed record RopeScaling(string Type, double Factor, double LowFreqFactor = 1, double HighFreqFactor = 4,
    int OriginalMaxPositionEmbeddings = 8192)
{
    public static RopeScaling FromJson(JsonElement o, string source)
    {
        string type = (o.TryGetProperty("rope_type", out var t) || o.TryGetProperty("type", out t)) && t.ValueKind == JsonValueKind.String
            ? t.GetString()! : "";
        double Num(string name, double fallback) =>
            o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : fallback;
        var s = new RopeScaling(type, Num("factor", 1), Num("low_freq_factor", 1), Num("high_freq_factor", 4),
            (int)Num("original_max_position_embeddings", 8192));
        if (type is not ("linear" or "llama3" or "default"))
            throw new EvoMergeException($"{source}: field 'rope_scaling.rope_type' is '{type}'; supported: linear, llama3, default");
        if (s.Factor <= 0) throw new EvoMergeException($"{source}: field 'rope_scaling.factor' must be positive");
        return s;
    }

    public Dictionary<string, object> ToJsonObject() => new()
    {
        ["rope_type"] = Type, ["factor"] = Factor, ["low_freq_factor"] = LowFreqFactor,
        ["high_freq_factor"] = HighFreqFactor, ["original_max_position_embeddings"] = OriginalMaxPositionEmbeddings,
    };

    /// <summary>Rescales RoPE inverse frequencies in place (the same arithmetic as transformers' rope init functions).</summary>
    public void Apply(double[] invFreq)
    {
        switch (Type)
        {
            case "linear":
                for (int i = 0; i < invFreq.Length; i++) invFreq[i] /= Factor;
                break;
            case "llama3":
                double lowWavelen = OriginalMaxPositionEmbeddings / LowFreqFactor;
                double highWavelen = OriginalMaxPositionEmbeddings / HighFreqFactor;
                for (int i = 0; i < invFreq.Length; i++)
                {
                    double wavelen = 2 * Math.PI / invFreq[i];
                    if (wavelen > lowWavelen) invFreq[i] /= Factor;
                    else if (wavelen >= highWavelen)
                    {
                        double smooth = (OriginalMaxPositionEmbeddings / wavelen - LowFreqFactor) / (HighFreqFactor - LowFreqFactor);
                        invFreq[i] = (1 - smooth) * invFreq[i] / Factor + smooth * invFreq[i];
                    }
                }
                break;
        }
    }
}
