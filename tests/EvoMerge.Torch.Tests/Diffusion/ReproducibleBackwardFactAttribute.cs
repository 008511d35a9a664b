using EvoMerge.Torch.Diffusion.Training;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Tests.Diffusion;

/// <summary>
/// A training test that needs libtorch's CPU backward to be reproducible: the same UNet forward and backward, run
/// <see cref="Runs"/> times on one thread, must give finite gradients with the same norm every time. On the AMD EPYC
/// (Zen 5) build machine of 2026-12-03 it did not (non-finite gradient norms of a finite loss in some runs, with
/// libtorch 2.10's default kernels, also with oneDNN or ATen capped at AVX2; docs/diffusion.md, "Training on a CPU whose backward is not reproducible"), while the same tests
/// passed on the Intel machine before. There a training test can only report the platform, so it is skipped,
/// saying so; everywhere else it runs.
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
            : $"libtorch's CPU backward is not reproducible on this machine: {bad} of {Runs} identical UNet backward passes gave another or a non-finite gradient norm (docs/diffusion.md, "Training on a CPU whose backward is not reproducible")";
    }
}
