using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Diffusion.Model;

/// <summary>
/// A down block (<c>DownBlock2D</c>, or <c>CrossAttnDownBlock2D</c> when <paramref name="crossAttention"/>): resnets,
/// each followed by a transformer in the cross-attention kind, then a stride-2 <c>downsamplers.0</c> unless last.
/// Every resnet (or transformer) output and the downsampled output are kept for the skip connections.
/// </summary>
public sealed class DownBlock : nn.Module
{
    readonly ModuleList<ResnetBlock2D> resnets;
    readonly ModuleList<Transformer2DModel>? attentions;
    readonly ModuleList<Downsample2D>? downsamplers;

    public DownBlock(int inChannels, int outChannels, int heads, bool crossAttention, bool downsample, UNetConfig c, Device? device, ScalarType dtype)
        : base(nameof(DownBlock))
    {
        resnets = nn.ModuleList(Enumerable.Range(0, c.LayersPerBlock)
            .Select(j => new ResnetBlock2D(j == 0 ? inChannels : outChannels, outChannels, c, device, dtype)).ToArray());
        if (crossAttention)
            attentions = nn.ModuleList(Enumerable.Range(0, c.LayersPerBlock).Select(_ => new Transformer2DModel(outChannels, heads, c, device, dtype)).ToArray());
        if (downsample) downsamplers = nn.ModuleList(new Downsample2D(outChannels, device, dtype));
        RegisterComponents();
    }

    /// <summary>Runs the block, appending its skip outputs to <paramref name="skips"/>.</summary>
    public Tensor Forward(Tensor x, Tensor temb, Tensor context, List<Tensor> skips)
    {
        for (int j = 0; j < resnets.Count; j++)
        {
            x = resnets[j].Forward(x, temb);
            if (attentions != null) x = attentions[j].Forward(x, context);
            skips.Add(x);
        }
        if (downsamplers != null)
        {
            x = downsamplers[0].Forward(x);
            skips.Add(x);
        }
        return x;
    }
}

/// <summary><c>UNetMidBlock2DCrossAttn</c>: resnet, transformer, resnet.</summary>
public sealed class MidBlock : nn.Module
{
    readonly ModuleList<ResnetBlock2D> resnets;
    readonly ModuleList<Transformer2DModel> attentions;

    public MidBlock(int channels, int heads, UNetConfig c, Device? device, ScalarType dtype) : base(nameof(MidBlock))
    {
        resnets = nn.ModuleList(new ResnetBlock2D(channels, channels, c, device, dtype), new ResnetBlock2D(channels, channels, c, device, dtype));
        attentions = nn.ModuleList(new Transformer2DModel(channels, heads, c, device, dtype));
        RegisterComponents();
    }

    public Tensor Forward(Tensor x, Tensor temb, Tensor context)
    {
        x = resnets[0].Forward(x, temb);
        x = attentions[0].Forward(x, context);
        return resnets[1].Forward(x, temb);
    }
}

/// <summary>
/// An up block (<c>UpBlock2D</c> or <c>CrossAttnUpBlock2D</c>): layers_per_block + 1 resnets, each on the input
/// concatenated with the newest unused skip output (then a transformer in the cross-attention kind), then a
/// nearest ×2 <c>upsamplers.0</c> unless last. Channels follow diffusers: resnet j takes the previous block's
/// output (j = 0) or this block's, plus the skip's channels (this block's, or the next-shallower block's for the last).
/// </summary>
public sealed class UpBlock : nn.Module
{
    readonly ModuleList<ResnetBlock2D> resnets;
    readonly ModuleList<Transformer2DModel>? attentions;
    readonly ModuleList<Upsample2D>? upsamplers;

    public UpBlock(int inChannels, int prevOutChannels, int outChannels, int heads, bool crossAttention, bool upsample, UNetConfig c,
        Device? device, ScalarType dtype) : base(nameof(UpBlock))
    {
        int n = c.LayersPerBlock + 1;
        resnets = nn.ModuleList(Enumerable.Range(0, n).Select(j =>
        {
            int skip = j == n - 1 ? inChannels : outChannels;
            int input = j == 0 ? prevOutChannels : outChannels;
            return new ResnetBlock2D(input + skip, outChannels, c, device, dtype);
        }).ToArray());
        if (crossAttention)
            attentions = nn.ModuleList(Enumerable.Range(0, n).Select(_ => new Transformer2DModel(outChannels, heads, c, device, dtype)).ToArray());
        if (upsample) upsamplers = nn.ModuleList(new Upsample2D(outChannels, device, dtype));
        RegisterComponents();
    }

    /// <summary>Runs the block, taking its skip inputs from the end of <paramref name="skips"/>.</summary>
    public Tensor Forward(Tensor x, Tensor temb, Tensor context, List<Tensor> skips)
    {
        for (int j = 0; j < resnets.Count; j++)
        {
            var skip = skips[^1];
            skips.RemoveAt(skips.Count - 1);
            x = resnets[j].Forward(cat([x, skip], 1), temb);
            if (attentions != null) x = attentions[j].Forward(x, context);
        }
        return upsamplers != null ? upsamplers[0].Forward(x) : x;
    }
}

/// <summary>diffusers' <c>TimestepEmbedding</c>: <c>linear_1</c>, SiLU, <c>linear_2</c>.</summary>
public sealed class TimestepEmbedding : nn.Module
{
    readonly Linear linear_1, linear_2;

    public TimestepEmbedding(int inChannels, int dim, Device? device, ScalarType dtype) : base(nameof(TimestepEmbedding))
    {
        linear_1 = nn.Linear(inChannels, dim, device: device, dtype: dtype);
        linear_2 = nn.Linear(dim, dim, device: device, dtype: dtype);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return linear_2.forward(nn.functional.silu(linear_1.forward(x))).MoveToOuterDisposeScope();
    }
}
