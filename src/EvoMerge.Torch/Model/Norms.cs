using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Model;

/// <summary>
/// Norm layers with their affine parameters set to PyTorch's defaults (scale 1, shift 0) explicitly: TorchSharp
/// 0.107's <c>GroupNorm</c> can leave them as uninitialised memory (seen as NaN and 1e30 scales in a fresh UNet);
/// every norm a wing creates fresh comes from here, LayerNorm too, so no fresh model depends on what memory held.
/// </summary>
public static class Norms
{
    public static GroupNorm Group(int groups, int channels, double eps, Device? device, ScalarType dtype) =>
        Reset(nn.GroupNorm(groups, channels, eps, device: device, dtype: dtype));

    public static LayerNorm Layer(int dim, double eps, Device? device, ScalarType dtype) =>
        Reset(nn.LayerNorm(dim, eps, device: device, dtype: dtype));

    static T Reset<T>(T norm) where T : nn.Module
    {
        using var _ = no_grad();
        foreach (var (name, p) in norm.named_parameters())
            if (name == "weight") p.fill_(1);
            else p.zero_();
        return norm;
    }
}
