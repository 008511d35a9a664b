using EvoMerge.Merge.Recipes;

namespace EvoMerge.Moe;

/// <summary>
/// How the router rows of each layer are made (mergekit-moe's <c>gate_mode</c>). <see cref="Hidden"/> and
/// <see cref="HiddenAvg"/> run the base model on the prompts; <see cref="CheapEmbed"/> only reads its embeddings.
/// </summary>
public enum GateMode
{
    /// <summary>The residual stream entering each layer at the prompt's last token (mergekit's <c>hidden</c> and <c>hidden_last</c>).</summary>
    Hidden,
    /// <summary>The residual stream entering each layer, averaged over the prompt's tokens (<c>hidden_avg</c>).</summary>
    HiddenAvg,
    /// <summary>The token embeddings summed over all prompts' tokens, the same rows for every layer.</summary>
    CheapEmbed,
    /// <summary>Standard normal rows.</summary>
    Random,
    /// <summary>Uniform on ±1/√hidden, as <c>nn.Linear</c> initialises.</summary>
    UniformRandom,
}

/// <summary>One expert: the dense model whose MLPs become expert <c>e</c> of every layer, and the prompts that route to it.</summary>
/// <param name="NoiseScale">Standard deviation of Gaussian noise added to the expert's weights (mergekit's sparse-upcycling aid).</param>
/// <param name="ResidualScale">Factor on the expert's down projection (its contribution to the residual stream).</param>
public sealed record MoeExpert(string SourceModel, RecipeMark Mark, IReadOnlyList<string> PositivePrompts,
    IReadOnlyList<string> NegativePrompts, double? NoiseScale, double? ResidualScale);

/// <summary>A mergekit-moe configuration, as <see cref="MoeConfigParser"/> reads it.</summary>
public sealed record MoeConfig
{
    public required string File { get; init; }
    /// <summary>The YAML text, copied into the output as mergekit does (<c>mergekit_moe_config.yml</c>).</summary>
    public required string Text { get; init; }
    /// <summary>Donor of the attention, norms, embeddings and head.</summary>
    public required string BaseModel { get; init; }
    public required RecipeMark BaseModelMark { get; init; }
    public required IReadOnlyList<MoeExpert> Experts { get; init; }
    public GateMode GateMode { get; init; } = GateMode.Hidden;
    /// <summary>The output dtype as written (float32, bfloat16, float16), or null for the base's.</summary>
    public string? Dtype { get; init; }
    public RecipeMark DtypeMark { get; init; }
    /// <summary>Experts each token is routed to (Mixtral's <c>num_experts_per_tok</c>).</summary>
    public int ExpertsPerToken { get; init; } = 2;
    /// <summary>Problems mergekit would pass over silently (unknown fields), for the caller to print.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}
