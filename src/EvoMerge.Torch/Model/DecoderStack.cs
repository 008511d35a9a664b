using static TorchSharp.torch;

namespace EvoMerge.Torch.Model;

/// <summary>
/// The body of every forward: run a sequence of blocks over the embeddings, then the final norm. A plain model
/// passes its own layers in order; a layer path passes any sequence of layers (repeats allowed) and one scale
/// per step. Step <c>i</c> uses KV-cache slot <c>i</c>.
/// </summary>
static class DecoderStack
{
    /// <param name="scales">Per step, the factor on the tensor entering it (see <see cref="DecoderLayer"/>); null = 1.</param>
    /// <param name="isToken">[batch, time] bool, false at left padding; needs a cache (without one, use right padding).</param>
    /// <param name="layerInputs">When given, receives the residual stream entering each step (Hugging Face's
    /// <c>hidden_states[i]</c>), detached from every dispose scope: the caller disposes them.</param>
    public static Tensor Run(Tensor embeddings, IReadOnlyList<DecoderLayer> layers, IReadOnlyList<float>? scales,
        RmsNorm norm, RotaryEmbedding rope, KvCache? cache, Tensor? isToken, List<Tensor>? layerInputs = null)
    {
        using var scope = NewDisposeScope();
        long time = embeddings.shape[1];
        if (cache is null && isToken is not null)
            throw new ArgumentException("padding masks need a KV cache; score right-padded batches without one", nameof(isToken));
        var positions = cache?.Begin(time, isToken) ?? arange(time, device: embeddings.device).unsqueeze(0);
        var inputs = new AttentionInputs
        {
            Angles = rope.Angles(positions, embeddings.dtype),
            Mask = cache?.Mask(time),
            Causal = cache is null ? time > 1 : cache.CausalWithoutMask(time),
            Cache = cache,
        };

        Tensor delta = embeddings;
        Tensor? residual = null;
        for (int i = 0; i < layers.Count; i++)
        {
            float scale = scales?[i] ?? 1f;
            Tensor next, stream;
            using (var step = NewDisposeScope())
            {
                var input = scale == 1f ? delta : delta * scale;
                if (layerInputs != null) layerInputs.Add((residual is null ? input.clone() : residual + input).DetachFromDisposeScope());
                (next, stream) = layers[i].Forward(input, residual, inputs, i);
                next.MoveToOuterDisposeScope();
                stream.MoveToOuterDisposeScope();
            }
            // The previous step's tensors are no longer referenced (autograd keeps its own references).
            if (!ReferenceEquals(delta, embeddings)) delta.Dispose();
            residual?.Dispose();
            (delta, residual) = (next, stream);
        }
        cache?.Commit(time);
        var final = residual is null ? delta : residual + delta;
        return norm.forward(final).MoveToOuterDisposeScope();
    }
}
