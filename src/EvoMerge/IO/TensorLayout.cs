using System.Text.RegularExpressions;

namespace EvoMerge.IO;

/// <summary>What part of a model a tensor belongs to.</summary>
public enum TensorRole { Layer, Embedding, FinalNorm, Head, Other }

/// <summary>A tensor's role, and for <see cref="TensorRole.Layer"/> its layer index (else -1).</summary>
public readonly record struct TensorPlace(TensorRole Role, int Layer)
{
    public static TensorPlace OfLayer(int layer) => new(TensorRole.Layer, layer);
    public static TensorPlace Of(TensorRole role) => new(role, -1);
}

/// <summary>
/// How a model's tensor names map to its structure: which tensors belong to decoder layer N, which are the token
/// embeddings, the final norm and the output head. Known architectures use their exact Hugging Face names;
/// for any other, the layers are inferred from names of the form <c>….layers.N.…</c> (or <c>.h.N.</c>,
/// <c>.blocks.N.</c>) and the rest from common words (embed, norm, lm_head), so that merging still works.
/// The merge engine uses it for per-layer parameters; frankenmerges use <see cref="WithLayer"/> to renumber.
/// </summary>
public sealed partial class TensorLayout
{
    /// <summary>The Hugging Face names shared by the Llama family of decoders.</summary>
    static readonly string[] LlamaFamily =
    [
        "LlamaForCausalLM", "MistralForCausalLM", "MixtralForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM",
        "Qwen2MoeForCausalLM", "GemmaForCausalLM", "Gemma2ForCausalLM", "Phi3ForCausalLM", "Starcoder2ForCausalLM",
    ];

    static readonly TensorLayout Llama = new("model.layers.", ["model.embed_tokens.weight"], ["model.norm.weight", "model.norm.bias"], ["lm_head.weight"], isKnown: true);
    static readonly TensorLayout GptNeoX = new("gpt_neox.layers.", ["gpt_neox.embed_in.weight"], ["gpt_neox.final_layer_norm.weight", "gpt_neox.final_layer_norm.bias"], ["embed_out.weight"], isKnown: true);

    readonly string? _layerPrefix; // for known layouts: the exact text before the layer number
    readonly HashSet<string> _embeddings, _finalNorms, _heads;

    /// <summary>True when the names come from a known architecture, false when inferred from the tensor names.</summary>
    public bool IsKnown { get; }

    TensorLayout(string? layerPrefix, string[] embeddings, string[] finalNorms, string[] heads, bool isKnown)
    {
        _layerPrefix = layerPrefix;
        _embeddings = [.. embeddings];
        _finalNorms = [.. finalNorms];
        _heads = [.. heads];
        IsKnown = isKnown;
    }

    /// <summary>The layout for a config's architecture (e.g. "LlamaForCausalLM"), or one inferred from tensor names when it is unknown or absent.</summary>
    public static TensorLayout For(string? architecture) => architecture switch
    {
        _ when architecture != null && LlamaFamily.Contains(architecture) => Llama,
        "GPTNeoXForCausalLM" => GptNeoX,
        _ => Inferred,
    };

    /// <summary>Architectures whose tensor names are known exactly.</summary>
    public static IReadOnlyList<string> KnownArchitectures { get; } = [.. LlamaFamily, "GPTNeoXForCausalLM"];

    static readonly TensorLayout Inferred = new(null, [], [], [], isKnown: false);

    [GeneratedRegex(@"^(?<prefix>(?:[^.]+\.)*?(?:layers|h|blocks|layer)\.)(?<index>\d+)\.")]
    private static partial Regex LayerName();

    public TensorPlace Classify(string name)
    {
        if (TryLayer(name, out int layer, out _)) return TensorPlace.OfLayer(layer);
        if (IsKnown)
        {
            if (_embeddings.Contains(name)) return TensorPlace.Of(TensorRole.Embedding);
            if (_finalNorms.Contains(name)) return TensorPlace.Of(TensorRole.FinalNorm);
            if (_heads.Contains(name)) return TensorPlace.Of(TensorRole.Head);
            return TensorPlace.Of(TensorRole.Other);
        }
        // Guesses for unknown architectures; the head first, since "embed_out" also says "embed".
        if (name.StartsWith("lm_head.") || name.StartsWith("embed_out.") || name is "output.weight")
            return TensorPlace.Of(TensorRole.Head);
        if (name.Contains("embed") || name.Contains("wte.") || name.Contains("wpe.") || name.StartsWith("tok_embeddings."))
            return TensorPlace.Of(TensorRole.Embedding);
        if (name.Contains("norm") || name.Contains("ln_f."))
            return TensorPlace.Of(TensorRole.FinalNorm);
        return TensorPlace.Of(TensorRole.Other);
    }

    /// <summary>The layer index of a tensor, or -1 when it belongs to no layer.</summary>
    public int LayerOf(string name) => TryLayer(name, out int layer, out _) ? layer : -1;

    /// <summary>The same tensor in layer <paramref name="layer"/>: "model.layers.3.mlp.up_proj.weight" → "model.layers.7.mlp.up_proj.weight".</summary>
    public string WithLayer(string name, int layer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        if (!TryLayer(name, out _, out var number)) throw new ArgumentException($"tensor '{name}' belongs to no layer", nameof(name));
        return string.Concat(name.AsSpan(0, number.Start.Value), layer.ToString(System.Globalization.CultureInfo.InvariantCulture), name.AsSpan(number.End.Value));
    }

    bool TryLayer(string name, out int layer, out Range number)
    {
        layer = -1;
        number = default;
        int start, end;
        if (_layerPrefix != null)
        {
            if (!name.StartsWith(_layerPrefix, StringComparison.Ordinal)) return false;
            start = _layerPrefix.Length;
            end = start;
            while (end < name.Length && char.IsAsciiDigit(name[end])) end++;
            if (end == start || end == name.Length || name[end] != '.') return false;
        }
        else
        {
            var match = LayerName().Match(name);
            if (!match.Success) return false;
            start = match.Groups["index"].Index;
            end = start + match.Groups["index"].Length;
        }
        if (!int.TryParse(name.AsSpan(start, end - start), System.Globalization.NumberStyles.None, null, out layer)) return false;
        number = start..end;
        return true;
    }
}
