using EvoMerge.Torch.Diffusion.Training;
using EvoMerge.Torch.Training;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Tests.Diffusion;

/// <summary>
/// DDPM training and step distillation run, stay finite and lower their loss on a fixed batch; a step whose loss or
/// gradients are not finite is skipped. One torch thread, as `demo train diffusion` trains.
/// </summary>
public sealed class DiffusionTrainerTests
{
    public DiffusionTrainerTests() => set_num_threads(1);

    static IEnumerable<ImageBatch> SameBatch()
    {
        while (true)
        {
            random.manual_seed(3);
            yield return new ImageBatch(rand(4, 3, 8, 8) * 2 - 1, ["ab", "cd", "ab", "ef"]);
        }
    }

    [ReproducibleBackwardFact]
    public void DdpmTrainingLowersTheLoss()
    {
        using var p = RandomPipeline.Create(seed: 1);
        var losses = new List<double>();
        DiffusionTrainer.Train(p, SameBatch(), new TrainingOptions { Steps = 30, LearningRate = 3e-3, WarmupSteps = 1 }, trainTextEncoder: true,
            new Progress(s => losses.Add(s.Loss)));
        var finite = losses.Where(double.IsFinite).ToList();
        Assert.True(finite.Count >= 25, $"{30 - finite.Count} of 30 steps skipped");
        Assert.True(finite.TakeLast(5).Average() < finite.Take(5).Average(), $"loss {finite[0]:F3} → {finite[^1]:F3}");
    }

    [ReproducibleBackwardFact]
    public void DistillationStaysFiniteAndLearns()
    {
        using var teacher = RandomPipeline.Create(seed: 2);
        using var student = teacher.Copy();
        var losses = new List<double>();
        DiffusionTrainer.Distill(teacher, student, 8, 4, SameBatch(), trajectoryBatches: 2,
            new TrainingOptions { Steps = 40, LearningRate = 1e-3, WarmupSteps = 1 }, new Progress(s => losses.Add(s.Loss)));
        var finite = losses.Where(double.IsFinite).ToList();
        Assert.True(finite.Count >= 35, $"losses: {string.Join(", ", losses.Select(x => x.ToString("G3")))}");
        // The student starts as the teacher, whose one step from a trajectory point misses the teacher's next point.
        Assert.True(finite.TakeLast(5).Average() < finite.Take(5).Average(), $"loss {finite[0]:G3} → {finite[^1]:G3}");
    }

    [Fact]
    public void A_student_grid_outside_the_teachers_is_refused()
    {
        using var teacher = RandomPipeline.Create(seed: 2);
        using var student = teacher.Copy();
        // Trailing spacing: 3 steps are 999, 666, 332; 8 steps are 999, 874, 749, … — 666 is not among them.
        var e = Assert.Throws<ArgumentException>(() => DiffusionTrainer.Distill(teacher, student, 8, 3, SameBatch(), 1, new TrainingOptions { Steps = 1, LearningRate = 1e-3 }));
        Assert.Contains("666", e.Message);
    }

    /// <summary>The fixed batch, except that the batches at <paramref name="broken"/> (0-based) hold a NaN pixel.</summary>
    static IEnumerable<ImageBatch> BrokenAt(Func<int, bool> broken)
    {
        int i = 0;
        foreach (var batch in SameBatch())
        {
            if (broken(i++)) batch.Images[0, 0, 0, 0] = tensor(float.NaN);
            yield return batch;
        }
    }

    static float[] Weights(EvoMerge.Torch.Diffusion.Pipeline.DiffusionPipeline p) =>
        p.Unet.parameters().SelectMany(w => w.detach().flatten().data<float>().ToArray()).ToArray();

    [ReproducibleBackwardFact]
    public void A_step_whose_loss_is_not_finite_is_skipped_and_training_goes_on()
    {
        using var p = RandomPipeline.Create(seed: 4);
        var steps = new List<TrainingStep>();
        var weights = new List<float[]>();
        // A NaN pixel at the second step: that step is reported as skipped and leaves every weight as it was, and
        // the steps after it train again.
        DiffusionTrainer.Train(p, BrokenAt(i => i == 1), new TrainingOptions { Steps = 4, LearningRate = 1e-3, WarmupSteps = 1 },
            trainTextEncoder: false, new Progress(s => { steps.Add(s); weights.Add(Weights(p)); }));
        Assert.Equal((false, true), (steps[0].Skipped, steps[1].Skipped));
        Assert.True(double.IsNaN(steps[1].Loss));
        Assert.Equal(weights[0], weights[1]);
        Assert.Contains(steps.Skip(2), s => !s.Skipped);
        Assert.NotEqual(weights[1], weights[3]);
    }

    [ReproducibleBackwardFact]
    public void Too_many_skipped_steps_in_a_row_stop_training_as_diverged()
    {
        using var p = RandomPipeline.Create(seed: 5);
        var e = Assert.Throws<EvoMergeException>(() => DiffusionTrainer.Train(p, BrokenAt(_ => true),
            new TrainingOptions { Steps = 40, LearningRate = 1e-3, WarmupSteps = 1 }, trainTextEncoder: false));
        Assert.Contains($"training diverged at step {DiffusionTrainer.MaxConsecutiveSkips + 1} of 40", e.Message);
    }

    sealed class Progress(Action<TrainingStep> report) : IProgress<TrainingStep>
    {
        public void Report(TrainingStep value) => report(value);
    }
}
