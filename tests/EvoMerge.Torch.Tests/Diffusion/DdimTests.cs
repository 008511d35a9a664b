using EvoMerge.Torch.Diffusion.Scheduling;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Tests.Diffusion;

/// <summary>The noise schedule and DDIM against values worked out by hand.</summary>
public sealed class DdimTests
{
    // β = 0.1, 0.2, 0.3, 0.4 (linear over 4 steps) → ᾱ = 0.9, 0.72, 0.504, 0.3024.
    static readonly NoiseSchedule Four = new() { TrainTimesteps = 4, BetaStart = 0.1, BetaEnd = 0.4, ClipSample = false };

    [Fact]
    public void AlphasCumprodAreTheProductsOfOneMinusBeta()
    {
        Assert.Equal([0.9, 0.72, 0.504, 0.3024], Four.AlphasCumprod.Select(a => Math.Round(a, 12)));
    }

    [Fact]
    public void TrailingTimestepsStartAtTheLastTrainingStep()
    {
        Assert.Equal([3, 1], Four.Timesteps(2));
        Assert.Equal([999, 749, 499, 249], new NoiseSchedule().Timesteps(4));
        Assert.Equal([750, 500, 250, 0], new NoiseSchedule { TimestepSpacing = "leading" }.Timesteps(4));
        Assert.Equal(1, Four.PreviousTimestep(3, 2));
        Assert.Equal(-1, Four.PreviousTimestep(1, 2));
    }

    [Fact]
    public void OneStepMatchesTheHandComputedValue()
    {
        // t = 3 → 1, x = 1, ε = 0.5:
        // x̂₀ = (1 − √0.6976·0.5)/√0.3024 = (1 − 0.417612)/0.549909 = 1.059062
        // x₁ = √0.72·1.059060 + √0.28·0.5 = 0.898644 + 0.264575 = 1.163219
        using var x = tensor(new[] { 1.0 });
        using var eps = tensor(new[] { 0.5 });
        using var next = Ddim.Step(Four, x, eps, 3, 1);
        Assert.Equal(1.163218, next.item<double>(), 5);
    }

    [Fact]
    public void ClippingBoundsThePredictedCleanImage()
    {
        // Same step with x̂₀ clipped to 1: x₁ = √0.72·1 + √0.28·0.5 = 0.848528 + 0.264575 = 1.113103
        using var x = tensor(new[] { 1.0 });
        using var eps = tensor(new[] { 0.5 });
        using var next = Ddim.Step(Four with { ClipSample = true }, x, eps, 3, 1);
        Assert.Equal(1.113103, next.item<double>(), 5);
    }

    [Fact]
    public void TheLastStepLandsOnThePredictedCleanImage()
    {
        // t = 1 → −1 (ᾱ = 1): x₀ = (x − √0.28·ε)/√0.72 = (0.3 − 0.529150·(−0.2))/0.848528 = 0.478276
        using var x = tensor(new[] { 0.3 });
        using var eps = tensor(new[] { -0.2 });
        using var next = Ddim.Step(Four, x, eps, 1, -1);
        Assert.Equal(0.478276, next.item<double>(), 5);
    }

    [Fact]
    public void TheDistillationNoiseMakesOneStepLandOnTheTarget()
    {
        // The ε that NoiseReaching returns, put through a plain DDIM step, must reproduce the target.
        using var x = tensor(new[] { 0.7, -1.2 });
        using var target = tensor(new[] { 0.1, 0.4 });
        using var eps = Ddim.NoiseReaching(Four, x, target, 3, -1);
        using var landed = Ddim.Step(Four, x, eps, 3, -1);
        Assert.Equal(0.1, landed[0].item<double>(), 9);
        Assert.Equal(0.4, landed[1].item<double>(), 9);
    }
}
