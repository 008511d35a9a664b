using static TorchSharp.torch;

namespace EvoMerge.Torch.Model;

/// <summary>
/// What generation and scoring need from a model: a plain <see cref="LlamaForCausalLM"/> or a
/// <see cref="LayerPathModel"/> (data-flow merge).
/// </summary>
public interface ICausalLM
{
    /// <summary>Vocabulary and attention shape (the head model's, for a layer path).</summary>
    LlamaConfig Config { get; }
    Device Device { get; }
    ScalarType DType { get; }

    /// <summary>
    /// Logits [batch, time or 1, vocab] for token ids [batch, time]. With a cache, the new tokens follow the cached
    /// ones; <paramref name="isToken"/> marks left padding. <paramref name="lastOnly"/> computes the head for the
    /// last position only (generation).
    /// </summary>
    Tensor Forward(Tensor inputIds, KvCache? cache = null, Tensor? isToken = null, bool lastOnly = false);

    /// <summary>An empty cache for <paramref name="batch"/> sequences of up to <paramref name="capacity"/> positions.</summary>
    KvCache NewCache(long batch, int capacity);
}
