using System.Text.Json;
using System.Text.Json.Nodes;
using EvoMerge.Torch.Model;

namespace EvoMerge.Torch.Vision.Model;

/// <summary>The CLIP vision transformer's shape (config.json's <c>vision_config</c>), with transformers' defaults.</summary>
public sealed record ClipVisionConfig
{
    public int HiddenSize { get; init; } = 768;
    public int IntermediateSize { get; init; } = 3072;
    public int NumLayers { get; init; } = 12;
    public int NumHeads { get; init; } = 12;
    public int NumChannels { get; init; } = 3;
    public int ImageSize { get; init; } = 224;
    public int PatchSize { get; init; } = 32;
    public double LayerNormEps { get; init; } = 1e-5;
    public string HiddenAct { get; init; } = "quick_gelu";

    public int PatchesPerSide => ImageSize / PatchSize;
    public int NumPatches => PatchesPerSide * PatchesPerSide;
}

/// <summary>
/// A Hugging Face <c>llava</c> config.json (LlavaForConditionalGeneration): the text decoder (<c>text_config</c>,
/// a Llama-family config whose missing fields take transformers' defaults for its <c>model_type</c>), the CLIP
/// vision tower (<c>vision_config</c>), which hidden state feeds the projector and how image tokens are marked.
/// LLaVA-1.6's "anyres" tiling (<c>llava_next</c>) is refused: it is not implemented.
/// </summary>
public sealed record LlavaConfig
{
    public required LlamaConfig Text { get; init; }
    public required ClipVisionConfig Vision { get; init; }
    /// <summary>The token id that marks one image position in the input ids.</summary>
    public int ImageTokenIndex { get; init; } = 32000;
    /// <summary>Hidden states of the vision tower fed to the projector (−2 = the input of its last layer); several are concatenated.</summary>
    public IReadOnlyList<int> VisionFeatureLayers { get; init; } = [-2];
    /// <summary>"default" drops the class token, "full" keeps it.</summary>
    public string VisionFeatureSelectStrategy { get; init; } = "default";
    public string ProjectorHiddenAct { get; init; } = "gelu";
    public bool ProjectorBias { get; init; } = true;

    /// <summary>Image positions per image in the prompt (576 for a 336² CLIP-L/14 crop).</summary>
    public int TokensPerImage => Vision.NumPatches + (VisionFeatureSelectStrategy == "full" ? 1 : 0);

    public static LlavaConfig FromFile(string path)
    {
        if (!File.Exists(path)) throw new EvoMergeException($"{path}: file not found (expected a Hugging Face llava config.json)");
        JsonNode? node;
        try { node = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new EvoMergeException($"{path}: not valid JSON ({e.Message})"); }
        if (node is not JsonObject root) throw new EvoMergeException($"{path}: expected a JSON object");
        return FromJson(root, path);
    }

    public static LlavaConfig FromJson(JsonObject root, string source)
    {
        string? arch = root["architectures"] is JsonArray { Count: > 0 } a ? (string?)a[0] : null;
        string? type = Str(root, "model_type", source);
        if (arch is "LlavaNextForConditionalGeneration" or "LlavaOnevisionForConditionalGeneration" || type is "llava_next" or "llava_onevision")
            throw new EvoMergeException($"{source}: field 'model_type' is '{type ?? arch}'; LLaVA-1.6 anyres tiling is not supported, only 'llava' (one CLIP crop per image)");
        if (arch is not (null or Anatomy.ModelAnatomy.LlavaArchitecture) || type is not (null or "llava"))
            throw new EvoMergeException($"{source}: field 'architectures' is '{arch ?? type}'; expected {Anatomy.ModelAnatomy.LlavaArchitecture}");

        var vision = root["vision_config"] as JsonObject ?? [];
        string visionType = Str(vision, "model_type", source) ?? "clip_vision_model";
        if (visionType != "clip_vision_model")
            throw new EvoMergeException($"{source}: field 'vision_config.model_type' is '{visionType}'; only a CLIP vision tower (clip_vision_model) is supported");
        var d = new ClipVisionConfig();
        var clip = new ClipVisionConfig
        {
            HiddenSize = Int(vision, "hidden_size", d.HiddenSize, source),
            IntermediateSize = Int(vision, "intermediate_size", d.IntermediateSize, source),
            NumLayers = Int(vision, "num_hidden_layers", d.NumLayers, source),
            NumHeads = Int(vision, "num_attention_heads", d.NumHeads, source),
            NumChannels = Int(vision, "num_channels", d.NumChannels, source),
            ImageSize = Int(vision, "image_size", d.ImageSize, source),
            PatchSize = Int(vision, "patch_size", d.PatchSize, source),
            LayerNormEps = Num(vision, "layer_norm_eps", d.LayerNormEps, source),
            HiddenAct = Str(vision, "hidden_act", source) ?? d.HiddenAct,
        };
        if (clip.HiddenAct is not ("quick_gelu" or "gelu"))
            throw new EvoMergeException($"{source}: field 'vision_config.hidden_act' is '{clip.HiddenAct}'; supported: quick_gelu, gelu");
        if (clip.HiddenSize <= 0 || clip.NumHeads <= 0 || clip.HiddenSize % clip.NumHeads != 0)
            throw new EvoMergeException($"{source}: field 'vision_config.num_attention_heads' must divide vision_config.hidden_size ({clip.HiddenSize})");
        if (clip.PatchSize <= 0 || clip.ImageSize % clip.PatchSize != 0)
            throw new EvoMergeException($"{source}: field 'vision_config.patch_size' must divide vision_config.image_size ({clip.ImageSize})");
        if (clip.NumLayers <= 0) throw new EvoMergeException($"{source}: field 'vision_config.num_hidden_layers' must be a positive integer");

        var layers = root["vision_feature_layer"] switch
        {
            null => [-2],
            JsonArray list => list.Select(n => n is JsonValue v && v.TryGetValue(out int i) ? i
                : throw new EvoMergeException($"{source}: field 'vision_feature_layer' must be an integer or a list of integers")).ToArray(),
            JsonValue v when v.TryGetValue(out int i) => [i],
            _ => throw new EvoMergeException($"{source}: field 'vision_feature_layer' must be an integer or a list of integers"),
        };
        foreach (int l in layers)
            if (l < -(clip.NumLayers + 1) || l > clip.NumLayers)
                throw new EvoMergeException($"{source}: field 'vision_feature_layer' is {l}; the vision tower has hidden states 0..{clip.NumLayers} (or −1..−{clip.NumLayers + 1})");
        string strategy = Str(root, "vision_feature_select_strategy", source) ?? "default";
        if (strategy is not ("default" or "full"))
            throw new EvoMergeException($"{source}: field 'vision_feature_select_strategy' is '{strategy}'; supported: default, full");
        string act = Str(root, "projector_hidden_act", source) ?? "gelu";
        if (act is not ("gelu" or "quick_gelu" or "relu"))
            throw new EvoMergeException($"{source}: field 'projector_hidden_act' is '{act}'; supported: gelu, quick_gelu, relu");

        int imageToken = root["image_token_index"] is JsonValue it && it.TryGetValue(out int iti) ? iti
            : root["image_token_id"] is JsonValue it2 && it2.TryGetValue(out int iti2) ? iti2 : 32000;
        var text = TextConfig(root["text_config"] as JsonObject ?? [], source);
        return new LlavaConfig
        {
            Text = text,
            Vision = clip,
            ImageTokenIndex = imageToken,
            VisionFeatureLayers = layers,
            VisionFeatureSelectStrategy = strategy,
            ProjectorHiddenAct = act,
            ProjectorBias = root["multimodal_projector_bias"] is not JsonValue pb || !pb.TryGetValue(out bool b) || b,
        };
    }

    /// <summary>text_config with transformers' defaults for its model type filled in (llava-hf configs list only what differs).</summary>
    static LlamaConfig TextConfig(JsonObject text, string source)
    {
        string type = Str(text, "model_type", source) ?? "llama";
        var defaults = type switch
        {
            "llama" => new JsonObject
            {
                ["vocab_size"] = 32000, ["hidden_size"] = 4096, ["intermediate_size"] = 11008, ["num_hidden_layers"] = 32,
                ["num_attention_heads"] = 32, ["max_position_embeddings"] = 2048, ["rms_norm_eps"] = 1e-6, ["rope_theta"] = 10000.0,
            },
            "mistral" => new JsonObject
            {
                ["vocab_size"] = 32000, ["hidden_size"] = 4096, ["intermediate_size"] = 14336, ["num_hidden_layers"] = 32,
                ["num_attention_heads"] = 32, ["num_key_value_heads"] = 8, ["max_position_embeddings"] = 131072,
                ["rms_norm_eps"] = 1e-6, ["rope_theta"] = 10000.0,
            },
            "qwen2" => new JsonObject(),
            _ => throw new EvoMergeException($"{source}: field 'text_config.model_type' is '{type}'; supported: llama, mistral, qwen2"),
        };
        foreach (var (key, value) in text) defaults[key] = value?.DeepClone();
        return LlamaConfig.From(EvoMerge.IO.ModelConfig.FromJson(defaults, source + " (text_config)"), source + " (text_config)");
    }

    static string? Str(JsonObject o, string name, string source) => o[name] switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out string? s) => s,
        _ => throw new EvoMergeException($"{source}: field '{name}' must be a string"),
    };

    static int Int(JsonObject o, string name, int fallback, string source) => o[name] switch
    {
        null => fallback,
        JsonValue v when v.TryGetValue(out int i) => i,
        _ => throw new EvoMergeException($"{source}: field 'vision_config.{name}' must be an integer"),
    };

    static double Num(JsonObject o, string name, double fallback, string source) => o[name] switch
    {
        null => fallback,
        JsonValue v when v.TryGetValue(out double x) => x,
        _ => throw new EvoMergeException($"{source}: field 'vision_config.{name}' must be a number"),
    };
}
