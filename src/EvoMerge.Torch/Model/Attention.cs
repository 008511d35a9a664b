using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Model;

/// <summary>
/// Multi-head self-attention with grouped key/value heads (GQA: each K/V head serves <c>heads / kvHeads</c>
/// query heads, done by repeating K/V), RoPE on q and k, and optional biases (Qwen2: q/k/v; Llama's attention_bias: all four).
/// </summary>
public sealed class Attention : nn.Module
{
    readonly Linear q_proj, k_proj, v_proj, o_proj;
    readonly int heads, kvHeads, headDim;

    public Attention(LlamaConfig c, Device? device, ScalarType dtype) : base(nameof(Attention))
    {
        heads = c.NumHeads;
        kvHeads = c.NumKvHeads;
        headDim = c.HeadDim;
        q_proj = nn.Linear(c.HiddenSize, heads * headDim, hasBias: c.AttentionBias, device: device, dtype: dtype);
        k_proj = nn.Linear(c.HiddenSize, kvHeads * headDim, hasBias: c.AttentionBias, device: device, dtype: dtype);
        v_proj = nn.Linear(c.HiddenSize, kvHeads * headDim, hasBias: c.AttentionBias, device: device, dtype: dtype);
        o_proj = nn.Linear(heads * headDim, c.HiddenSize, hasBias: c.OutputProjectionBias, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <param name="x">[batch, time, hidden]</param>
    /// <param name="slot">The KV cache slot of this step.</param>
    public Tensor Forward(Tensor x, AttentionInputs a, int slot)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], t = x.shape[1];
        var qkv = Projection.Apply([q_proj, k_proj, v_proj], x);
        var q = qkv[0].view(b, t, heads, headDim).transpose(1, 2);
        var k = qkv[1].view(b, t, kvHeads, headDim).transpose(1, 2);
        var v = qkv[2].view(b, t, kvHeads, headDim).transpose(1, 2);
        q = RotaryEmbedding.Apply(q, a.Angles);
        k = RotaryEmbedding.Apply(k, a.Angles);
        if (a.Cache != null) (k, v) = a.Cache.Append(slot, k, v);
        Tensor y;
        if (kvHeads == heads)
            y = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask: a.Mask, is_casual: a.Causal);
        else if (t == 1)
        {
            // Decoding one token: the query heads sharing a K/V head become rows of one attention over that head
            // (query head h uses K/V head h / groups), so the cache is read in place instead of copied per step.
            int groups = heads / kvHeads;
            y = nn.functional.scaled_dot_product_attention(q.reshape(b, kvHeads, groups, headDim), k, v, attn_mask: a.Mask)
                .reshape(b, heads, 1, headDim);
        }
        else
        {
            k = k.repeat_interleave(heads / kvHeads, dim: 1);
            v = v.repeat_interleave(heads / kvHeads, dim: 1);
            y = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask: a.Mask, is_casual: a.Causal);
        }
        return Projection.Apply(o_proj, y.transpose(1, 2).reshape(b, t, heads * headDim)).MoveToOuterDisposeScope();
    }
}
