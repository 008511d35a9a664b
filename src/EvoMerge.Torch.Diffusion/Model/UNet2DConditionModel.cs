using EvoMerge.Torch.Model;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Diffusion.Model;

/// <summary>
/// A text-conditioned UNet with diffusers' <c>UNet2DConditionModel</c> parameter names (<c>conv_in</c>,
/// <c>time_embedding</c>, <c>down_blocks.i</c>, <c>mid_block</c>, <c>up_blocks.i</c>, <c>conv_norm_out</c>,
/// <c>conv_out</c>), so a checkpoint of it is addressed by the same anatomy as SDXL's. Predicts the noise ε.
/// </summary>
public sealed class UNet2DConditionModel : nn.Module
{
    readonly Conv2d conv_in, conv_out;
    readonly TimestepEmbedding time_embedding;
    readonly ModuleList<DownBlock> down_blocks;
    readonly MidBlock mid_block;
    readonly ModuleList<UpBlock> up_blocks;
    readonly GroupNorm conv_norm_out;

    public UNetConfig Config { get; }

    public UNet2DConditionModel(UNetConfig c, Device? device = null, ScalarType dtype = ScalarType.Float32) : base(nameof(UNet2DConditionModel))
    {
        Config = c;
        var ch = c.BlockOutChannels;
        int n = c.Blocks;
        conv_in = nn.Conv2d(c.InChannels, ch[0], 3, padding: 1, device: device, dtype: dtype);
        time_embedding = new TimestepEmbedding(ch[0], c.TimeEmbeddingDim, device, dtype);
        down_blocks = nn.ModuleList(Enumerable.Range(0, n).Select(i => new DownBlock(i == 0 ? ch[0] : ch[i - 1], ch[i], c.AttentionHeads[i],
            c.DownBlockTypes[i] == "CrossAttnDownBlock2D", downsample: i < n - 1, c, device, dtype)).ToArray());
        mid_block = new MidBlock(ch[^1], c.AttentionHeads[^1], c, device, dtype);
        var reversed = ch.Reverse().ToArray();
        var reversedHeads = c.AttentionHeads.Reverse().ToArray();
        up_blocks = nn.ModuleList(Enumerable.Range(0, n).Select(i => new UpBlock(reversed[Math.Min(i + 1, n - 1)], i == 0 ? reversed[0] : reversed[i - 1],
            reversed[i], reversedHeads[i], c.UpBlockTypes[i] == "CrossAttnUpBlock2D", upsample: i < n - 1, c, device, dtype)).ToArray());
        conv_norm_out = Norms.Group(c.NormNumGroups, ch[0], c.NormEps, device, dtype);
        conv_out = nn.Conv2d(ch[0], c.OutChannels, 3, padding: 1, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <param name="sample">[batch, channels, size, size] noisy images</param>
    /// <param name="timesteps">[batch] integer timesteps (any dtype)</param>
    /// <param name="context">[batch, text tokens, cross_attention_dim] text encoder states</param>
    /// <returns>the predicted noise, shaped like <paramref name="sample"/></returns>
    public Tensor Forward(Tensor sample, Tensor timesteps, Tensor context)
    {
        using var scope = NewDisposeScope();
        var temb = time_embedding.Forward(TimestepFeatures(timesteps, Config.BlockOutChannels[0], Config.FlipSinToCos, Config.FreqShift)
            .to_type(sample.dtype));
        var x = conv_in.forward(sample);
        var skips = new List<Tensor> { x };
        foreach (var block in down_blocks) x = block.Forward(x, temb, context, skips);
        x = mid_block.Forward(x, temb, context);
        foreach (var block in up_blocks) x = block.Forward(x, temb, context, skips);
        return conv_out.forward(nn.functional.silu(conv_norm_out.forward(x))).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// diffusers' <c>get_timestep_embedding</c>: frequencies exp(−ln(10⁴)·k/(half − shift)), sin then cos
    /// (cos then sin when flipped, as SD and SDXL are), in float32.
    /// </summary>
    public static Tensor TimestepFeatures(Tensor timesteps, int dim, bool flipSinToCos, int freqShift)
    {
        using var scope = NewDisposeScope();
        int half = dim / 2;
        var exponent = arange(half, dtype: ScalarType.Float32, device: timesteps.device) * (-Math.Log(10000) / (half - freqShift));
        var angles = timesteps.to_type(ScalarType.Float32).unsqueeze(1) * exp(exponent).unsqueeze(0);
        var features = flipSinToCos ? cat([cos(angles), sin(angles)], 1) : cat([sin(angles), cos(angles)], 1);
        return features.MoveToOuterDisposeScope();
    }
}
