using EvoMerge.Torch.Diffusion.Training;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Tests.Diffusion;

/// <summary>
/// A training test that needs libtorch's CPU backward to be reproducible: the same UNet forward and backward, run
/// <see cref="Runs"/> times on one thread, must give finite gradients with the same norm every time. It was not on an
/// AMD EPYC (Zen 5) machine until oneDNN was capped at AVX2 (docs/diffusion.md, "AMD processors with AVX-512"); on a
/// platform where it is not, a training test can only report the platform, so it is skipped, saying so.
/// </summary>
public sealed class ReproducibleBackwardFactAttribute : FactAttribute
{
    const int Runs = 24;

    static readonly Lazy<string?> Problem = new(Probe);

    public ReproducibleBackwardFactAttribute()
    {
        if (Problem.Value is { } problem) Skip = problem;
    }

    static string? Probe()
    {
        set_num_threads(1);
        using var p = RandomPipeline.Create(seed: 9);
        random.manual_seed(9);
        using var scope = NewDisposeScope();
        var images = rand(4, 3, 8, 8) * 2 - 1;
        var t = randint(0, 1000, [4], dtype: ScalarType.Int64);
        var noise = randn_like(images);
        var ids = p.TokenIds(["ab", "cd", "ab", "ef"]);
        var parameters = p.Unet.parameters().Concat(p.TextEncoder.parameters()).ToList();
        var norms = new List<double>();
        for (int run = 0; run < Runs; run++)
        {
            using var step = NewDisposeScope();
            foreach (var w in parameters) w.grad?.zero_();
            nn.functional.mse_loss(p.Unet.Forward(images, t, p.TextEncoder.Forward(ids)), noise).backward();
            norms.Add(nn.utils.clip_grad_norm_(parameters, double.PositiveInfinity));
        }
        int bad = norms.Count(n => !double.IsFinite(n) || n != norms[0]);
        return bad == 0 ? null
            : $"libtorch's CPU backward is not reproducible on this machine: {bad} of {Runs} identical UNet backward passes gave another or a non-finite gradient norm (docs/diffusion.md, 'AMD processors with AVX-512')";
    }
}
