using EvoMerge.Torch.Diffusion.Model;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Tests.Diffusion;

/// <summary>Freshly initialised modules (torch's default initialisation, no weights loaded) give finite outputs.</summary>
public sealed class DefaultInitTests
{
    [Fact]
    public void AFreshPipelinePredictsFiniteNoise()
    {
        TorchSharp.torch.set_num_threads(1);
        random.manual_seed(0);
        var unet = new UNet2DConditionModel(new UNetConfig
        {
            SampleSize = 16, BlockOutChannels = [32, 64], AttentionHeads = [2, 2], NormNumGroups = 8, CrossAttentionDim = 64,
        });
        var text = new ClipTextModel(new ClipTextConfig { VocabSize = 200, HiddenSize = 64, IntermediateSize = 128, NumLayers = 2, NumHeads = 2, MaxPositionEmbeddings = 24 });
        var bad = unet.named_parameters().Where(p => !isfinite(p.parameter).all().item<bool>() || p.parameter.abs().max().item<float>() > 1e6).Select(p => p.name).ToList();
        Assert.True(bad.Count == 0, "non-finite or huge after init: " + string.Join(", ", bad));
        using var _ = no_grad();
        using var ids = randint(0, 200, [2, 24], dtype: ScalarType.Int64);
        using var context = text.Forward(ids);
        Assert.True(isfinite(context).all().item<bool>(), "text states");
        using var x = randn(2, 3, 16, 16);
        using var eps = unet.Forward(x, tensor(new long[] { 5, 900 }), context);
        Assert.True(isfinite(eps).all().item<bool>(), "UNet output");
    }
}
