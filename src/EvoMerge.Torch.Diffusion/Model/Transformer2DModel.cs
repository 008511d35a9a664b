using EvoMerge.Torch.Model;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Diffusion.Model;

/// <summary>
/// diffusers' <c>Attention</c> as the UNet uses it: <c>to_q</c>, <c>to_k</c>, <c>to_v</c> without bias and
/// <c>to_out.0</c> with bias, scaled dot-product attention over <c>heads</c>. Self-attention when no context is given.
/// </summary>
public sealed class UNetAttention : nn.Module
{
    readonly Linear to_q, to_k, to_v;
    readonly ModuleList<Linear> to_out;
    readonly int heads;

    public UNetAttention(int dim, int contextDim, int heads, Device? device, ScalarType dtype) : base(nameof(UNetAttention))
    {
        this.heads = heads;
        to_q = nn.Linear(dim, dim, hasBias: false, device: device, dtype: dtype);
        to_k = nn.Linear(contextDim, dim, hasBias: false, device: device, dtype: dtype);
        to_v = nn.Linear(contextDim, dim, hasBias: false, device: device, dtype: dtype);
        // diffusers' to_out is [Linear, Dropout]: only index 0 holds weights.
        to_out = nn.ModuleList(nn.Linear(dim, dim, device: device, dtype: dtype));
        RegisterComponents();
    }

    /// <param name="x">[batch, tokens, dim]</param>
    /// <param name="context">[batch, text tokens, context dim], or null for self-attention</param>
    public Tensor Forward(Tensor x, Tensor? context)
    {
        using var scope = NewDisposeScope();
        var ctx = context ?? x;
        long b = x.shape[0];
        Tensor Heads(Tensor t) => t.view(b, t.shape[1], heads, -1).transpose(1, 2);
        var y = nn.functional.scaled_dot_product_attention(Heads(to_q.forward(x)), Heads(to_k.forward(ctx)), Heads(to_v.forward(ctx)));
        return to_out[0].forward(y.transpose(1, 2).reshape(b, x.shape[1], -1)).MoveToOuterDisposeScope();
    }
}

/// <summary>diffusers' <c>BasicTransformerBlock</c>: self-attention, cross-attention to the text, GEGLU feed-forward, each pre-LayerNorm and residual.</summary>
public sealed class BasicTransformerBlock : nn.Module
{
    readonly LayerNorm norm1, norm2, norm3;
    readonly UNetAttention attn1, attn2;
    readonly FeedForward ff;

    public BasicTransformerBlock(int dim, int contextDim, int heads, Device? device, ScalarType dtype) : base(nameof(BasicTransformerBlock))
    {
        norm1 = Norms.Layer(dim, 1e-5, device, dtype);
        attn1 = new UNetAttention(dim, dim, heads, device, dtype);
        norm2 = Norms.Layer(dim, 1e-5, device, dtype);
        attn2 = new UNetAttention(dim, contextDim, heads, device, dtype);
        norm3 = Norms.Layer(dim, 1e-5, device, dtype);
        ff = new FeedForward(dim, device, dtype);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x, Tensor context)
    {
        using var scope = NewDisposeScope();
        var h = x + attn1.Forward(norm1.forward(x), null);
        h = h + attn2.Forward(norm2.forward(h), context);
        return (h + ff.Forward(norm3.forward(h))).MoveToOuterDisposeScope();
    }
}

/// <summary>diffusers' <c>FeedForward</c> with GEGLU: <c>net.0.proj</c> to 2 × 4·dim, value · GELU(gate), <c>net.2</c> back to dim.</summary>
public sealed class FeedForward : nn.Module
{
    // The only registered field, so the weights are named net.0.proj and net.2 as in diffusers.
    readonly ModuleList<nn.Module> net;

    public FeedForward(int dim, Device? device, ScalarType dtype) : base(nameof(FeedForward))
    {
        // Index 1 is diffusers' Dropout, which holds no weights: an identity keeps the numbering.
        net = nn.ModuleList<nn.Module>(new GegluProjection(dim, 4 * dim, device, dtype), nn.Identity(), nn.Linear(4 * dim, dim, device: device, dtype: dtype));
        RegisterComponents();
    }

    public Tensor Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return ((Linear)net[2]).forward(((GegluProjection)net[0]).Forward(x)).MoveToOuterDisposeScope();
    }
}

/// <summary>GEGLU: one projection to value and gate halves (value first), value · GELU(gate) with erf GELU.</summary>
public sealed class GegluProjection : nn.Module
{
    readonly Linear proj;

    public GegluProjection(int dim, int inner, Device? device, ScalarType dtype) : base(nameof(GegluProjection))
    {
        proj = nn.Linear(dim, 2 * inner, device: device, dtype: dtype);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var parts = proj.forward(x).chunk(2, -1);
        return (parts[0] * nn.functional.gelu(parts[1])).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// diffusers' <c>Transformer2DModel</c> with SDXL's linear projections: GroupNorm (ε 1e-6), pixels as tokens,
/// <c>proj_in</c>, transformer blocks, <c>proj_out</c>, back to an image, plus the input.
/// </summary>
public sealed class Transformer2DModel : nn.Module
{
    readonly GroupNorm norm;
    readonly Linear proj_in, proj_out;
    readonly ModuleList<BasicTransformerBlock> transformer_blocks;

    public Transformer2DModel(int channels, int heads, UNetConfig c, Device? device, ScalarType dtype) : base(nameof(Transformer2DModel))
    {
        norm = Norms.Group(c.NormNumGroups, channels, 1e-6, device, dtype);
        proj_in = nn.Linear(channels, channels, device: device, dtype: dtype);
        transformer_blocks = nn.ModuleList(Enumerable.Range(0, c.TransformerLayersPerBlock)
            .Select(_ => new BasicTransformerBlock(channels, c.CrossAttentionDim, heads, device, dtype)).ToArray());
        proj_out = nn.Linear(channels, channels, device: device, dtype: dtype);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x, Tensor context)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], ch = x.shape[1], h = x.shape[2], w = x.shape[3];
        var tokens = proj_in.forward(norm.forward(x).permute(0, 2, 3, 1).reshape(b, h * w, ch));
        foreach (var block in transformer_blocks) tokens = block.Forward(tokens, context);
        var image = proj_out.forward(tokens).reshape(b, h, w, ch).permute(0, 3, 1, 2);
        return (image + x).MoveToOuterDisposeScope();
    }
}
