using static TorchSharp.torch;

namespace EvoMerge.Torch.Diffusion.Scheduling;

/// <summary>
/// Deterministic DDIM (Song et al. 2021, η = 0): from xₜ and the predicted noise ε,
/// x̂₀ = (xₜ − √(1−ᾱₜ)·ε)/√ᾱₜ (clipped when the schedule says so), then x_prev = √ᾱ_prev·x̂₀ + √(1−ᾱ_prev)·ε.
/// As diffusers' <c>DDIMScheduler.step</c> by default, the direction term keeps the model's ε when x̂₀ is clipped.
/// </summary>
public static class Ddim
{
    public static Tensor Step(NoiseSchedule schedule, Tensor x, Tensor epsilon, int t, int tPrev)
    {
        using var scope = NewDisposeScope();
        double a = schedule.AlphaBar(t), aPrev = schedule.AlphaBar(tPrev);
        var x0 = (x - Math.Sqrt(1 - a) * epsilon) / Math.Sqrt(a);
        if (schedule.ClipSample) x0 = x0.clamp(-schedule.ClipSampleRange, schedule.ClipSampleRange);
        return (Math.Sqrt(aPrev) * x0 + Math.Sqrt(1 - aPrev) * epsilon).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The noise that makes one DDIM step from <paramref name="t"/> land exactly on <paramref name="target"/> at
    /// <paramref name="tTarget"/> (no clipping): solving x_target = √ᾱ'·x̂₀ + √(1−ᾱ')·ε for ε. The regression
    /// target of step distillation (Salimans &amp; Ho 2022), for an ε-predicting student.
    /// </summary>
    public static Tensor NoiseReaching(NoiseSchedule schedule, Tensor x, Tensor target, int t, int tTarget)
    {
        double a = schedule.AlphaBar(t), aT = schedule.AlphaBar(tTarget);
        double xCoefficient = Math.Sqrt(aT / a);
        double epsilonCoefficient = Math.Sqrt(1 - aT) - Math.Sqrt(aT * (1 - a) / a);
        using var scope = NewDisposeScope();
        return ((target - xCoefficient * x) / epsilonCoefficient).MoveToOuterDisposeScope();
    }
}
