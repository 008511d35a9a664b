using EvoMerge.Torch.Model;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Diffusion.Model;

/// <summary>
/// diffusers' <c>ResnetBlock2D</c> (time-scale-shift "default"): GroupNorm → SiLU → 3×3 conv, plus the projected
/// time embedding per channel, GroupNorm → SiLU → 3×3 conv, added to the input (through a 1×1 <c>conv_shortcut</c>
/// when the channel count changes).
/// </summary>
public sealed class ResnetBlock2D : nn.Module
{
    readonly GroupNorm norm1, norm2;
    readonly Conv2d conv1, conv2;
    readonly Linear time_emb_proj;
    readonly Conv2d? conv_shortcut;

    public ResnetBlock2D(int inChannels, int outChannels, UNetConfig c, Device? device, ScalarType dtype) : base(nameof(ResnetBlock2D))
    {
        norm1 = Norms.Group(c.NormNumGroups, inChannels, c.NormEps, device, dtype);
        conv1 = nn.Conv2d(inChannels, outChannels, 3, padding: 1, device: device, dtype: dtype);
        time_emb_proj = nn.Linear(c.TimeEmbeddingDim, outChannels, device: device, dtype: dtype);
        norm2 = Norms.Group(c.NormNumGroups, outChannels, c.NormEps, device, dtype);
        conv2 = nn.Conv2d(outChannels, outChannels, 3, padding: 1, device: device, dtype: dtype);
        if (inChannels != outChannels) conv_shortcut = nn.Conv2d(inChannels, outChannels, 1, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <param name="x">[batch, in, h, w]</param>
    /// <param name="temb">[batch, time embedding]</param>
    public Tensor Forward(Tensor x, Tensor temb)
    {
        using var scope = NewDisposeScope();
        var h = conv1.forward(nn.functional.silu(norm1.forward(x)));
        h = h + time_emb_proj.forward(nn.functional.silu(temb)).unsqueeze(-1).unsqueeze(-1);
        h = conv2.forward(nn.functional.silu(norm2.forward(h)));
        var shortcut = conv_shortcut is null ? x : conv_shortcut.forward(x);
        return (shortcut + h).MoveToOuterDisposeScope();
    }
}

/// <summary>A stride-2 3×3 convolution (diffusers' <c>Downsample2D</c> with <c>use_conv</c>, padding 1).</summary>
public sealed class Downsample2D : nn.Module
{
    readonly Conv2d conv;

    public Downsample2D(int channels, Device? device, ScalarType dtype) : base(nameof(Downsample2D))
    {
        conv = nn.Conv2d(channels, channels, 3, stride: 2, padding: 1, device: device, dtype: dtype);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x) => conv.forward(x);
}

/// <summary>Nearest-neighbour ×2, then a 3×3 convolution (diffusers' <c>Upsample2D</c> with <c>use_conv</c>).</summary>
public sealed class Upsample2D : nn.Module
{
    readonly Conv2d conv;

    public Upsample2D(int channels, Device? device, ScalarType dtype) : base(nameof(Upsample2D))
    {
        conv = nn.Conv2d(channels, channels, 3, padding: 1, device: device, dtype: dtype);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var up = nn.functional.interpolate(x, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest);
        return conv.forward(up).MoveToOuterDisposeScope();
    }
}
