namespace EvoMerge.Evolution.Spaces;

/// <summary>
/// A decoded PS genome: the merge method and, for every tensor group and source model, a value per evolved
/// parameter (<c>Values[group][model][parameter]</c>, parameters in <see cref="Parameters"/> order).
/// </summary>
public sealed record PsRecipe(
    string Method,
    string? BaseModel,
    IReadOnlyList<string> Models,
    IReadOnlyList<string> Parameters,
    IReadOnlyList<TensorGroup> Groups,
    IReadOnlyList<IReadOnlyList<IReadOnlyList<double>>> Values)
{
    /// <summary>The parameter values of each model for one tensor (by its Hugging Face Llama-style name).</summary>
    public IReadOnlyList<IReadOnlyList<double>> ValuesFor(string tensorName) => Values[GroupOf(tensorName)];

    /// <summary>The index of the first group that <paramref name="tensorName"/> belongs to.</summary>
    public int GroupOf(string tensorName)
    {
        var (layer, part) = TensorGroup.Classify(tensorName);
        for (int g = 0; g < Groups.Count; g++)
            if (Groups[g].Contains(layer, part)) return g;
        throw new EvoMergeException($"tensor '{tensorName}': no PS group covers it (layer {layer?.ToString() ?? "none"}, {part})");
    }

    public double Value(int group, int model, string parameter) => Values[group][model][IndexOf(parameter)];

    int IndexOf(string parameter) => Parameters.ToList().IndexOf(parameter) is >= 0 and var i ? i
        : throw new EvoMergeException($"PS recipe: no parameter '{parameter}'; evolved: {string.Join(", ", Parameters)}");
}

/// <summary>Which part of a decoder layer (or of the model outside the layers) a tensor belongs to.</summary>
public enum TensorPart
{
    /// <summary>Token embeddings (and anything else outside the layers that is not the head).</summary>
    Embeddings,
    Attention,
    Mlp,
    /// <summary>The final norm and the LM head.</summary>
    Head,
}

/// <summary>
/// A set of tensors sharing one value per model and parameter: the layers <see cref="FirstLayer"/>..
/// <see cref="LastLayer"/> (inclusive), restricted to <see cref="Parts"/>; <see cref="Parts"/> containing
/// <see cref="TensorPart.Embeddings"/> or <see cref="TensorPart.Head"/> means those tensors outside the layers.
/// </summary>
public sealed record TensorGroup(string Name, int FirstLayer, int LastLayer, IReadOnlyList<TensorPart> Parts)
{
    public bool Contains(int? layer, TensorPart part) =>
        Parts.Contains(part) && (layer is null || (layer >= FirstLayer && layer <= LastLayer));

    /// <summary>
    /// Layer index and part of a Llama-style tensor name (<c>model.layers.3.self_attn.q_proj.weight</c>).
    /// A layer's input norm travels with attention and its post-attention norm with the MLP.
    /// </summary>
    public static (int? Layer, TensorPart Part) Classify(string tensorName)
    {
        const string marker = "layers.";
        int at = tensorName.IndexOf(marker, StringComparison.Ordinal);
        if (at < 0) return (null, OutsideLayers(tensorName));
        int start = at + marker.Length, end = tensorName.IndexOf('.', start);
        if (end < 0 || !int.TryParse(tensorName.AsSpan(start, end - start), out int layer)) return (null, OutsideLayers(tensorName));
        bool mlp = tensorName.Contains(".mlp.", StringComparison.Ordinal) || tensorName.Contains("post_attention_layernorm", StringComparison.Ordinal);
        return (layer, mlp ? TensorPart.Mlp : TensorPart.Attention);
    }

    /// <summary>Llama-style <c>lm_head.*</c> and <c>model.norm.*</c> are the head; everything else outside the layers is embeddings.</summary>
    static TensorPart OutsideLayers(string tensorName) =>
        tensorName.StartsWith("lm_head.", StringComparison.Ordinal) || tensorName.StartsWith("model.norm.", StringComparison.Ordinal)
            ? TensorPart.Head : TensorPart.Embeddings;
}
