using System.Text.RegularExpressions;

namespace EvoMerge.Anatomy;

/// <summary>
/// The one map from a model's tensor names to its structure (<see cref="TensorPlace"/>): which tensors belong to
/// layer N and to which part of it, which are the token embeddings, the final norm and the output head, and
/// which module holds them. Known architectures use their exact Hugging Face names; for any other, the layers
/// are inferred from names of the form <c>….layers.N.…</c> (or <c>.h.N.</c>, <c>.blocks.N.</c>) and the rest
/// from common words (embed, norm, lm_head), so that merging still works. The merge plan carries each tensor's
/// place, PS groups match on it, and frankenmerges use <see cref="WithLayer"/> to renumber. A new model family
/// (LLaVA modules, UNet blocks) is a change here and nowhere else.
/// </summary>
public sealed partial class ModelAnatomy
{
    /// <summary>The Hugging Face names shared by the Llama family of decoders.</summary>
    static readonly string[] LlamaFamily =
    [
        "LlamaForCausalLM", "MistralForCausalLM", "MixtralForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM",
        "Qwen2MoeForCausalLM", "GemmaForCausalLM", "Gemma2ForCausalLM", "Phi3ForCausalLM", "Starcoder2ForCausalLM",
    ];

    static readonly ModelAnatomy Llama = new("model.layers.", ["model.embed_tokens.weight"], ["model.norm.weight", "model.norm.bias"], ["lm_head.weight"], isKnown: true);
    static readonly ModelAnatomy GptNeoX = new("gpt_neox.layers.", ["gpt_neox.embed_in.weight"], ["gpt_neox.final_layer_norm.weight", "gpt_neox.final_layer_norm.bias"], ["embed_out.weight"], isKnown: true);

    readonly string? _layerPrefix; // for known layouts: the exact text before the layer number
    readonly HashSet<string> _embeddings, _finalNorms, _heads;

    /// <summary>True when the names come from a known architecture, false when inferred from the tensor names.</summary>
    public bool IsKnown { get; }

    ModelAnatomy(string? layerPrefix, string[] embeddings, string[] finalNorms, string[] heads, bool isKnown)
    {
        _layerPrefix = layerPrefix;
        _embeddings = [.. embeddings];
        _finalNorms = [.. finalNorms];
        _heads = [.. heads];
        IsKnown = isKnown;
    }

    /// <summary>The layout for a config's architecture (e.g. "LlamaForCausalLM"), or one inferred from tensor names when it is unknown or absent.</summary>
    public static ModelAnatomy For(string? architecture) => architecture switch
    {
        _ when architecture != null && LlamaFamily.Contains(architecture) => Llama,
        "GPTNeoXForCausalLM" => GptNeoX,
        LlavaArchitecture => Llava,
        _ when UnsupportedLlavaArchitectures.Contains(architecture) => throw new EvoMergeException(
            $"field 'architectures' is '{architecture}': LLaVA-1.6 anyres tiling is not supported, only {LlavaArchitecture} (one CLIP crop per image)"),
        _ => Inferred,
    };

    /// <summary>Architectures whose tensor names are known exactly.</summary>
    public static IReadOnlyList<string> KnownArchitectures { get; } = [.. LlamaFamily, "GPTNeoXForCausalLM", LlavaArchitecture];

    static readonly ModelAnatomy Inferred = new(null, [], [], [], isKnown: false);

    [GeneratedRegex(@"^(?<prefix>(?:[^.]+\.)*?(?:layers|h|blocks|layer)\.)(?<index>\d+)\.")]
    private static partial Regex LayerName();

    /// <summary>Where the tensor <paramref name="name"/> sits.</summary>
    public TensorPlace Place(string name)
    {
        if (IsLlava) return LlavaPlace(name);
        if (IsDiffusion) return DiffusionPlace(name);
        if (TryLayer(name, out int layer, out _)) return TensorPlace.OfLayer(layer, PartOf(name));
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

    /// <summary>
    /// The sub-block of a layer tensor: the MLP (its projections, and the norm that feeds it), else attention, as
    /// the PS groups split a layer. Mixtral's <c>block_sparse_moe</c> (router and experts) is its MLP. Names of unknown
    /// architectures follow the same words.
    /// </summary>
    static TensorPart PartOf(string name) =>
        name.Contains(".mlp.", StringComparison.Ordinal) || name.Contains(".block_sparse_moe.", StringComparison.Ordinal)
        || name.Contains("post_attention_layernorm", StringComparison.Ordinal)
            ? TensorPart.Mlp : TensorPart.Attention;

    /// <summary>The layer index of a tensor, or -1 when it belongs to no layer.</summary>
    public int LayerOf(string name) => TryLayer(name, out int layer, out _) ? layer : -1;

    /// <summary>The same tensor in layer <paramref name="layer"/>: "model.layers.3.mlp.up_proj.weight" → "model.layers.7.mlp.up_proj.weight".</summary>
    public string WithLayer(string name, int layer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        if (IsDiffusion)
            // A UNet's blocks differ in channels and feed each other through skip connections: they stay where they are.
            return UnetBlock(name) == layer ? name
                : throw new EvoMergeException($"tensor '{name}' is in UNet block {(UnetBlock(name) is int b and >= 0 ? BlockName(b) : "none")}; UNet blocks cannot be moved or restacked (block {layer} asked)");
        if (!TryLayer(name, out _, out var number)) throw new ArgumentException($"tensor '{name}' belongs to no layer", nameof(name));
        return string.Concat(name.AsSpan(0, number.Start.Value), layer.ToString(System.Globalization.CultureInfo.InvariantCulture), name.AsSpan(number.End.Value));
    }

    bool TryLayer(string name, out int layer, out Range number)
    {
        if (IsLlava) return LlavaTryLayer(name, out layer, out number);
        if (IsDiffusion)
        {
            layer = UnetBlock(name);
            number = default;
            return layer >= 0;
        }
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
