namespace EvoMerge.Torch.Training;

/// <summary>
/// How to train a causal language model: AdamW (β 0.9/0.95 as in nanoGPT/Llama), linear warmup then cosine decay
/// to <see cref="MinLearningRateFraction"/> of the peak, gradient clipping. The data order is the caller's.
/// </summary>
public sealed record TrainingOptions
{
    public required int Steps { get; init; }
    public required double LearningRate { get; init; }
    public int WarmupSteps { get; init; }
    public double MinLearningRateFraction { get; init; } = 0.1;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.95;
    public double WeightDecay { get; init; } = 0.01;
    /// <summary>Global gradient-norm limit; 0 = no clipping.</summary>
    public double GradientClip { get; init; } = 1.0;
}

/// <summary>One step's report: the mean token loss of its batch and the learning rate it used.</summary>
/// <param name="Skipped">The step's loss or gradients were not finite, so the weights were left as they were.</param>
public readonly record struct TrainingStep(int Step, int Steps, double Loss, double LearningRate, bool Skipped = false);
