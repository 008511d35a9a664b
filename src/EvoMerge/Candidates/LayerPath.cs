namespace EvoMerge.Candidates;

/// <summary>
/// A data-flow-space model: the hidden state passes through <see cref="Steps"/> in order, each a layer of one of
/// <see cref="Models"/>; <see cref="Models"/>[0] is model A, which supplies embeddings, final norm, LM head and
/// tokenizer. Each step multiplies its input by <see cref="PathStep.Scale"/> (see docs/evolution.md for where).
/// Written to the run folder as <c>best-path.json</c>, which the runtime loads.
/// </summary>
public sealed record LayerPath(IReadOnlyList<string> Models, IReadOnlyList<PathStep> Steps)
{
    /// <summary>Whether every scale is 1: the path is then a plain layer-stacked model.</summary>
    public bool IsUnscaled => Steps.All(s => s.Scale == 1);
}

/// <param name="Model">Index into <see cref="LayerPath.Models"/>.</param>
/// <param name="Layer">Decoder layer index within that model.</param>
/// <param name="Scale">
/// Multiplies the tensor that enters this step: the previous step's block output before it joins the residual
/// stream (the embeddings, for the first step). This is Sakana's <c>h * input_scales[t]</c> in their fused-residual
/// runtime and the paper's W_ij for the hop from layer i to layer j.
/// </param>
public readonly record struct PathStep(int Model, int Layer, double Scale = 1);
