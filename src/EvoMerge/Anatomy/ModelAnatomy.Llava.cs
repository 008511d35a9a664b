namespace EvoMerge.Anatomy;

/// <summary>
/// LLaVA (<c>LlavaForConditionalGeneration</c>): three modules in one folder. The CLIP vision tower and the
/// projector keep their names; the language model is a Llama-family decoder whose names carry a prefix, which
/// differs between transformers 4.x (<c>language_model.model.layers.N…</c>, <c>language_model.lm_head.weight</c>)
/// and 5.x (<c>model.language_model.layers.N…</c>, <c>lm_head.weight</c>). <see cref="DecoderName"/> maps either
/// to the plain LLM's name, which is how a VLM's language model meets a text LLM's tensors in a merge and how
/// the runtime loads both layouts.
/// </summary>
public sealed partial class ModelAnatomy
{
    public const string LlavaArchitecture = "LlavaForConditionalGeneration";

    static readonly ModelAnatomy Llava = new(null, [], [], [], isKnown: true) { IsLlava = true };

    /// <summary>
    /// LLaVA-1.6 (anyres tiling, <c>image_newline</c>) and OneVision: refused wherever a folder is opened (merge, evolve,
    /// runtime), rather than read as an unknown model whose vision layers would be taken for decoder layers.
    /// </summary>
    static readonly string[] UnsupportedLlavaArchitectures = ["LlavaNextForConditionalGeneration", "LlavaOnevisionForConditionalGeneration"];

    /// <summary>True for the LLaVA layout (a vision tower, a projector and a text decoder under a prefix).</summary>
    public bool IsLlava { get; private init; }

    /// <summary>The language model's name prefixes in a LLaVA folder and the same tensors' prefixes in a plain LLM.</summary>
    static readonly (string Vlm, string Llm)[] LlavaDecoderPrefixes =
    [
        ("language_model.model.", "model."),       // transformers 4.x
        ("language_model.lm_head.", "lm_head."),
        ("model.language_model.", "model."),       // transformers 5.x
        ("lm_head.", "lm_head."),
    ];

    static readonly (string Prefix, ModelModule Module)[] LlavaOtherModules =
    [
        ("vision_tower.", ModelModule.VisionTower), ("model.vision_tower.", ModelModule.VisionTower),
        ("multi_modal_projector.", ModelModule.Projector), ("model.multi_modal_projector.", ModelModule.Projector),
        ("image_newline", ModelModule.Projector), ("model.image_newline", ModelModule.Projector),
    ];

    const string VisionLayers = "vision_model.encoder.layers.";

    /// <summary>
    /// A text-decoder tensor's name in a plain Llama-family LLM (<c>model.layers.3.mlp.up_proj.weight</c>), or null
    /// for a tensor of another module (vision tower, projector). For a plain LLM, the name itself.
    /// </summary>
    public string? DecoderName(string name)
    {
        if (!IsLlava) return name;
        foreach (var (vlm, llm) in LlavaDecoderPrefixes)
            if (name.StartsWith(vlm, StringComparison.Ordinal)) return string.Concat(llm, name.AsSpan(vlm.Length));
        return null;
    }

    /// <summary>The anatomy of <see cref="DecoderName"/>'s names: Llama's for a LLaVA, this one for a plain model.</summary>
    public ModelAnatomy Decoder => IsLlava ? Llama : this;

    /// <summary>
    /// The inverse of <see cref="DecoderName"/>: a plain LLM's tensor name (<c>model.layers.3.mlp.up_proj.weight</c>)
    /// as a LLaVA folder of the given layout names it (4.x <c>language_model.model.…</c>, 5.x <c>model.language_model.…</c>).
    /// </summary>
    public static string LlavaName(string decoderName, bool transformers5)
    {
        foreach (var (vlm, llm) in LlavaDecoderPrefixes.AsSpan(transformers5 ? 2 : 0, 2))
            if (decoderName.StartsWith(llm, StringComparison.Ordinal)) return string.Concat(vlm, decoderName.AsSpan(llm.Length));
        throw new EvoMergeException($"tensor '{decoderName}' has no place in a LLaVA's language model (expected model.… or lm_head.…)");
    }

    /// <summary>
    /// The projector's last linear (<c>multi_modal_projector.linear_2.weight</c> / <c>.bias</c>, either layout): its
    /// output is what enters the language model at the image positions, so a factor on the input embeddings (a DFS
    /// path's first scale) is folded into it as into <c>embed_tokens</c>.
    /// </summary>
    public bool IsProjectorOutput(string name) =>
        IsLlava && LlavaPlace(name).Module == ModelModule.Projector && name.Contains("multi_modal_projector.linear_2.", StringComparison.Ordinal);

    /// <summary>True when a LLaVA folder's names are transformers 5.x's (<c>model.language_model.…</c>).</summary>
    public static bool UsesTransformers5Names(IEnumerable<string> tensorNames) =>
        tensorNames.Any(n => n.StartsWith("model.language_model.", StringComparison.Ordinal));

    TensorPlace LlavaPlace(string name)
    {
        if (DecoderName(name) is string decoder) return Llama.Place(decoder);
        var module = LlavaOtherModules.FirstOrDefault(m => name.StartsWith(m.Prefix, StringComparison.Ordinal)).Module;
        if (module == ModelModule.VisionTower)
        {
            if (LlavaTryLayer(name, out int layer, out _))
                return TensorPlace.OfLayer(layer,
                    name.Contains(".mlp.", StringComparison.Ordinal) || name.Contains(".layer_norm2.", StringComparison.Ordinal)
                        ? TensorPart.Mlp : TensorPart.Attention,
                    ModelModule.VisionTower);
            if (name.Contains(".embeddings.", StringComparison.Ordinal)) return TensorPlace.Of(TensorRole.Embedding, module);
            if (name.Contains(".post_layernorm.", StringComparison.Ordinal)) return TensorPlace.Of(TensorRole.FinalNorm, module);
            return TensorPlace.Of(TensorRole.Other, module);
        }
        // The projector, and names no LLaVA has (they stay with the decoder, which copies what it cannot merge).
        return TensorPlace.Of(TensorRole.Other, module);
    }

    bool LlavaTryLayer(string name, out int layer, out Range number)
    {
        layer = -1;
        number = default;
        if (DecoderName(name) is string decoder)
        {
            if (!Llama.TryLayer(decoder, out layer, out var inDecoder)) return false;
            int shift = name.Length - decoder.Length;   // only the prefix differs
            number = (inDecoder.Start.Value + shift)..(inDecoder.End.Value + shift);
            return true;
        }
        int at = name.IndexOf(VisionLayers, StringComparison.Ordinal);
        if (at < 0 || !name.AsSpan(0, at).EndsWith("vision_tower.")) return false;
        int start = at + VisionLayers.Length, end = start;
        while (end < name.Length && char.IsAsciiDigit(name[end])) end++;
        if (end == start || end == name.Length || name[end] != '.') return false;
        if (!int.TryParse(name.AsSpan(start, end - start), System.Globalization.NumberStyles.None, null, out layer)) return false;
        number = start..end;
        return true;
    }
}
