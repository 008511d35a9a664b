using static TorchSharp.torch;

namespace EvoMerge.Torch.Model;

/// <summary>
/// What every attention step of one forward shares: RoPE angles of the new positions, the mask, and the cache.
/// Built once per forward by <see cref="DecoderStack"/>.
/// </summary>
public sealed class AttentionInputs
{
    public required (Tensor Cos, Tensor Sin) Angles { get; init; }
    /// <summary>[batch, 1, time, keys] bool (true = attend), or null.</summary>
    public Tensor? Mask { get; init; }
    /// <summary>Plain causal attention with no explicit mask (a full forward or an unpadded prefill).</summary>
    public bool Causal { get; init; }
    public KvCache? Cache { get; init; }
}
