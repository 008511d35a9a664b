using EvoMerge.Torch.Diffusion.Training;
using EvoMerge.Torch.Training;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Tests.Diffusion;

/// <summary>DDPM training and step distillation run, stay finite and lower their loss on a fixed batch.</summary>
public sealed class DiffusionTrainerTests
{
    static IEnumerable<ImageBatch> SameBatch()
    {
        while (true)
        {
            random.manual_seed(3);
            yield return new ImageBatch(rand(4, 3, 8, 8) * 2 - 1, ["ab", "cd", "ab", "ef"]);
        }
    }

    [Fact]
    public void DdpmTrainingLowersTheLoss()
    {
        using var p = RandomPipeline.Create(seed: 1);
        var losses = new List<double>();
        DiffusionTrainer.Train(p, SameBatch(), new TrainingOptions { Steps = 30, LearningRate = 3e-3, WarmupSteps = 1 }, trainTextEncoder: true,
            new Progress(s => losses.Add(s.Loss)));
        Assert.All(losses, l => Assert.True(double.IsFinite(l)));
        Assert.True(losses.TakeLast(5).Average() < losses.Take(5).Average(), $"loss {losses[0]:F3} → {losses[^1]:F3}");
    }

    [Fact]
    public void DistillationStaysFiniteAndLearns()
    {
        using var teacher = RandomPipeline.Create(seed: 2);
        using var student = teacher.Copy();
        var losses = new List<double>();
        DiffusionTrainer.Distill(teacher, student, 8, 4, SameBatch(), new TrainingOptions { Steps = 30, LearningRate = 1e-3, WarmupSteps = 1 },
            new Progress(s => losses.Add(s.Loss)));
        Assert.All(losses, l => Assert.True(double.IsFinite(l), $"losses: {string.Join(", ", losses.Select(x => x.ToString("G3")))}"));
    }

    sealed class Progress(Action<TrainingStep> report) : IProgress<TrainingStep>
    {
        public void Report(TrainingStep value) => report(value);
    }
}
