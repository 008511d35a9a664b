using System.Text.RegularExpressions;

namespace EvoMerge.IO.Gguf;

/// <summary>Hugging Face tensor names of Llama-family models → llama.cpp's GGUF names.</summary>
public static partial class LlamaGgufNames
{
    static readonly Dictionary<string, string> Global = new()
    {
        ["model.embed_tokens"] = "token_embd",
        ["model.norm"] = "output_norm",
        ["lm_head"] = "output",
    };

    static readonly Dictionary<string, string> PerLayer = new()
    {
        ["input_layernorm"] = "attn_norm",
        ["self_attn.q_proj"] = "attn_q",
        ["self_attn.k_proj"] = "attn_k",
        ["self_attn.v_proj"] = "attn_v",
        ["self_attn.o_proj"] = "attn_output",
        ["post_attention_layernorm"] = "ffn_norm",
        ["mlp.gate_proj"] = "ffn_gate",
        ["mlp.up_proj"] = "ffn_up",
        ["mlp.down_proj"] = "ffn_down",
    };

    [GeneratedRegex(@"^model\.layers\.(\d+)\.(.+)\.(weight|bias)$")]
    private static partial Regex LayerTensor();

    [GeneratedRegex(@"^(.+)\.(weight|bias)$")]
    private static partial Regex GlobalTensor();

    /// <summary>Tensors that carry no weights (precomputed RoPE tables) and are not exported.</summary>
    public static bool IsSkipped(string hfName) => hfName.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal);

    /// <summary>The GGUF name of <paramref name="hfName"/>, or null when it is not a Llama-family tensor.</summary>
    public static string? ToGguf(string hfName)
    {
        var m = LayerTensor().Match(hfName);
        if (m.Success)
            return PerLayer.TryGetValue(m.Groups[2].Value, out var part) ? $"blk.{m.Groups[1].Value}.{part}.{m.Groups[3].Value}" : null;
        m = GlobalTensor().Match(hfName);
        return m.Success && Global.TryGetValue(m.Groups[1].Value, out var name) ? $"{name}.{m.Groups[2].Value}" : null;
    }
}
