namespace EvoMerge.Torch.Training;

/// <summary>Linear warmup from 0 to the peak, then half a cosine down to a floor (nanoGPT's schedule).</summary>
public static class LearningRateSchedule
{
    /// <param name="step">0-based step index.</param>
    public static double At(int step, TrainingOptions o)
    {
        if (step < o.WarmupSteps) return o.LearningRate * (step + 1) / o.WarmupSteps;
        double floor = o.LearningRate * o.MinLearningRateFraction;
        int decaySteps = Math.Max(1, o.Steps - o.WarmupSteps - 1);
        double progress = Math.Min(1.0, (step - o.WarmupSteps) / (double)decaySteps);
        return floor + 0.5 * (1 + Math.Cos(Math.PI * progress)) * (o.LearningRate - floor);
    }
}
