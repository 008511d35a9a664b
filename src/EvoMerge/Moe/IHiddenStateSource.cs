namespace EvoMerge.Moe;

/// <summary>How a prompt's positions are reduced to one vector per layer.</summary>
public enum TokenReduction
{
    /// <summary>The last position (mergekit's <c>hidden</c>).</summary>
    Last,
    /// <summary>The mean over all positions (<c>hidden_avg</c>).</summary>
    Mean,
}

/// <summary>
/// The base model's forward for <c>gate_mode: hidden</c>. The core builds the MoE folder and the router rows from
/// these vectors; running a decoder needs a runtime, which implements this (EvoMerge.Torch's
/// <c>TorchHiddenStateSource</c>), so the core stays free of libtorch.
/// </summary>
public interface IHiddenStateSource : IDisposable
{
    /// <summary>
    /// For token ids of one prompt (BOS included), per decoder layer l = 0 … L−1, the residual stream entering layer
    /// l — Hugging Face's <c>hidden_states[l]</c>: the embeddings for layer 0, the output of layer l−1 after — reduced
    /// over the positions. Returns [L][hidden].
    /// </summary>
    float[][] LayerInputs(IReadOnlyList<int> tokens, TokenReduction reduction);
}
