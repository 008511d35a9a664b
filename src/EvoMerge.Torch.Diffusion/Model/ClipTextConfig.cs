using System.Text.Json.Nodes;

namespace EvoMerge.Torch.Diffusion.Model;

/// <summary>The shape of a <c>CLIPTextModel</c> (transformers' <c>text_encoder/config.json</c> field names).</summary>
public sealed record ClipTextConfig
{
    public int VocabSize { get; init; } = 256;
    public int HiddenSize { get; init; } = 64;
    public int IntermediateSize { get; init; } = 128;
    public int NumLayers { get; init; } = 2;
    public int NumHeads { get; init; } = 2;
    public int MaxPositionEmbeddings { get; init; } = 24;
    public double LayerNormEps { get; init; } = 1e-5;

    public static ClipTextConfig Load(string path)
    {
        var j = ConfigJson.Load(path);
        if (j.String("hidden_act", "quick_gelu") != "quick_gelu") throw j.Bad("hidden_act", "\"quick_gelu\"");
        var c = new ClipTextConfig
        {
            VocabSize = j.Int("vocab_size", 49408, max: 1 << 20),
            HiddenSize = j.Int("hidden_size", 512, max: 1 << 14),
            IntermediateSize = j.Int("intermediate_size", 2048, max: 1 << 16),
            NumLayers = j.Int("num_hidden_layers", 12, max: 128),
            NumHeads = j.Int("num_attention_heads", 8, max: 256),
            MaxPositionEmbeddings = j.Int("max_position_embeddings", 77, max: 1 << 14),
            LayerNormEps = j.Double("layer_norm_eps", 1e-5),
        };
        if (c.HiddenSize % c.NumHeads != 0) throw j.Bad("num_attention_heads", $"a divisor of hidden_size ({c.HiddenSize})");
        return c;
    }

    public JsonObject ToJson() => new()
    {
        ["architectures"] = new JsonArray("CLIPTextModel"),
        ["model_type"] = "clip_text_model",
        ["vocab_size"] = VocabSize,
        ["hidden_size"] = HiddenSize,
        ["intermediate_size"] = IntermediateSize,
        ["num_hidden_layers"] = NumLayers,
        ["num_attention_heads"] = NumHeads,
        ["max_position_embeddings"] = MaxPositionEmbeddings,
        ["layer_norm_eps"] = LayerNormEps,
        ["hidden_act"] = "quick_gelu",
        ["projection_dim"] = HiddenSize,
    };
}
