using static TorchSharp.torch;

namespace EvoMerge.Torch.Model;

/// <summary>
/// One transformer block, written in "fused residual" form: it takes the previous block's output
/// (<c>delta</c>, not yet added) and the residual stream, and returns its own output and the stream.
/// A plain forward is the same arithmetic as Hugging Face's block; the form exists so that a layer path can
/// scale exactly the tensor Sakana's runtime scales: the previous layer's output before it joins the stream.
/// </summary>
public sealed class DecoderLayer : nn.Module
{
    readonly RmsNorm input_layernorm, post_attention_layernorm;
    readonly Attention self_attn;
    // Exactly one of the two: the field name is the Hugging Face parameter prefix (mlp.* or block_sparse_moe.*).
    readonly Mlp? mlp;
    readonly SparseMoeBlock? block_sparse_moe;

    public DecoderLayer(LlamaConfig c, Device? device, ScalarType dtype) : base(nameof(DecoderLayer))
    {
        input_layernorm = new RmsNorm(c.HiddenSize, c.RmsNormEps, device, dtype);
        self_attn = new Attention(c, device, dtype);
        post_attention_layernorm = new RmsNorm(c.HiddenSize, c.RmsNormEps, device, dtype);
        if (c.NumExperts > 0) block_sparse_moe = new SparseMoeBlock(c, device, dtype);
        else mlp = new Mlp(c, device, dtype);
        RegisterComponents();
    }

    /// <param name="delta">The previous block's output (the embeddings before the first block).</param>
    /// <param name="residual">The residual stream before <paramref name="delta"/> joins it; null before the first block.</param>
    public (Tensor Delta, Tensor Residual) Forward(Tensor delta, Tensor? residual, AttentionInputs a, int slot)
    {
        var stream = residual is null ? delta : residual + delta;
        var h = stream + self_attn.Forward(input_layernorm.forward(stream), a, slot);
        var normed = post_attention_layernorm.forward(h);
        return (mlp?.forward(normed) ?? block_sparse_moe!.forward(normed), h);
    }
}
