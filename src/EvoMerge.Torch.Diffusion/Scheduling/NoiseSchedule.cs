using System.Text.Json.Nodes;
using EvoMerge.Torch.Diffusion.Model;

namespace EvoMerge.Torch.Diffusion.Scheduling;

/// <summary>
/// The DDPM forward process (Ho et al. 2020) and DDIM's settings, in diffusers' <c>scheduler/scheduler_config.json</c>
/// terms: β linear (or "scaled_linear", SD's: linear in √β) from <c>beta_start</c> to <c>beta_end</c> over
/// <c>num_train_timesteps</c>; ᾱₜ = Π(1 − βₛ). Sampling uses <c>timestep_spacing</c> "trailing" (the first step at
/// t = T − 1, as SDXL-Lightning's few-step sampling needs) or "leading", and clips the predicted x₀ to
/// ±<c>clip_sample_range</c> when <c>clip_sample</c> (pixel-space models). Alphas are kept in float64.
/// </summary>
public sealed record NoiseSchedule
{
    public int TrainTimesteps { get; init; } = 1000;
    public double BetaStart { get; init; } = 1e-4;
    public double BetaEnd { get; init; } = 0.02;
    public string BetaSchedule { get; init; } = "linear";
    public bool ClipSample { get; init; } = true;
    public double ClipSampleRange { get; init; } = 1.0;
    public string TimestepSpacing { get; init; } = "trailing";

    double[]? alphasCumprod;

    /// <summary>ᾱₜ for t = 0..T−1.</summary>
    public IReadOnlyList<double> AlphasCumprod => alphasCumprod ??= ComputeAlphasCumprod();

    /// <summary>ᾱ at <paramref name="t"/>; 1 for t &lt; 0 (diffusers' <c>set_alpha_to_one</c>: the clean image).</summary>
    public double AlphaBar(int t) => t < 0 ? 1.0 : AlphasCumprod[t];

    double[] ComputeAlphasCumprod()
    {
        var result = new double[TrainTimesteps];
        double product = 1;
        for (int t = 0; t < TrainTimesteps; t++)
        {
            double beta = BetaSchedule == "scaled_linear"
                ? Math.Pow(Math.Sqrt(BetaStart) + (Math.Sqrt(BetaEnd) - Math.Sqrt(BetaStart)) * t / (TrainTimesteps - 1), 2)
                : BetaStart + (BetaEnd - BetaStart) * t / (TrainTimesteps - 1);
            product *= 1 - beta;
            result[t] = product;
        }
        return result;
    }

    /// <summary>The timesteps of an <paramref name="steps"/>-step sampler, from noisiest to cleanest.</summary>
    public int[] Timesteps(int steps)
    {
        if (steps < 1 || steps > TrainTimesteps) throw new EvoMergeException($"the number of sampling steps must be in 1..{TrainTimesteps}, got {steps}");
        if (TimestepSpacing == "leading")
        {
            int ratio = TrainTimesteps / steps;
            return Enumerable.Range(0, steps).Select(i => i * ratio).Reverse().ToArray();
        }
        // diffusers' "trailing": round(arange(T, 0, −T/steps)) − 1
        double stride = (double)TrainTimesteps / steps;
        return Enumerable.Range(0, steps).Select(i => (int)Math.Round(TrainTimesteps - i * stride, MidpointRounding.ToEven) - 1).ToArray();
    }

    /// <summary>The timestep a DDIM step from <paramref name="t"/> lands on: t − T/steps (negative means the clean image).</summary>
    public int PreviousTimestep(int t, int steps) => t - TrainTimesteps / steps;

    public static NoiseSchedule Load(string path)
    {
        var j = ConfigJson.Load(path);
        var s = new NoiseSchedule
        {
            TrainTimesteps = j.Int("num_train_timesteps", 1000, min: 2, max: 100_000),
            BetaStart = j.Double("beta_start", 1e-4),
            BetaEnd = j.Double("beta_end", 0.02),
            BetaSchedule = j.String("beta_schedule", "linear"),
            ClipSample = j.Bool("clip_sample", true),
            ClipSampleRange = j.Double("clip_sample_range", 1.0),
            TimestepSpacing = j.String("timestep_spacing", "leading"),
        };
        if (s.BetaSchedule is not ("linear" or "scaled_linear")) throw j.Bad("beta_schedule", "\"linear\" or \"scaled_linear\"");
        if (s.TimestepSpacing is not ("trailing" or "leading")) throw j.Bad("timestep_spacing", "\"trailing\" or \"leading\"");
        if (j.String("prediction_type", "epsilon") != "epsilon") throw j.Bad("prediction_type", "\"epsilon\"");
        if (!(s.BetaStart > 0 && s.BetaEnd < 1 && s.BetaStart <= s.BetaEnd)) throw j.Bad("beta_end", "above beta_start and below 1");
        if (j.Int("steps_offset", 0, min: 0, max: 0) != 0) throw j.Bad("steps_offset", "0");
        return s;
    }

    public JsonObject ToJson() => new()
    {
        ["_class_name"] = "DDIMScheduler",
        ["num_train_timesteps"] = TrainTimesteps,
        ["beta_start"] = BetaStart,
        ["beta_end"] = BetaEnd,
        ["beta_schedule"] = BetaSchedule,
        ["prediction_type"] = "epsilon",
        ["clip_sample"] = ClipSample,
        ["clip_sample_range"] = ClipSampleRange,
        ["set_alpha_to_one"] = true,
        ["steps_offset"] = 0,
        ["timestep_spacing"] = TimestepSpacing,
    };
}
