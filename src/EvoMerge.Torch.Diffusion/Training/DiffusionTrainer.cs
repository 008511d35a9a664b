using EvoMerge.Torch.Diffusion.Pipeline;
using EvoMerge.Torch.Diffusion.Scheduling;
using EvoMerge.Torch.Training;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Diffusion.Training;

/// <summary>
/// DDPM training (Ho et al. 2020) with the project's optimiser settings and learning-rate schedule
/// (<see cref="TrainingOptions"/>): per image a uniform timestep t and Gaussian noise ε, xₜ = √ᾱₜ·x₀ + √(1−ᾱₜ)·ε, and
/// the mean squared error between ε and the UNet's prediction. The text encoder learns with the UNet unless frozen.
/// Deterministic for a seed (torch's generator, seed it with <see cref="CausalLmTrainer.Seed"/>) and thread count.
/// </summary>
public static class DiffusionTrainer
{
    public static void Train(DiffusionPipeline pipeline, IEnumerable<ImageBatch> batches, TrainingOptions options, bool trainTextEncoder,
        IProgress<TrainingStep>? progress = null)
    {
        var parameters = Parameters(pipeline, trainTextEncoder);
        var schedule = pipeline.Schedule;
        using var alphas = tensor(schedule.AlphasCumprod.ToArray()).to_type(ScalarType.Float32);
        Loop(pipeline, parameters, batches, options, progress, batch =>
        {
            long n = batch.Images.shape[0];
            var t = randint(0, schedule.TrainTimesteps, [n], dtype: ScalarType.Int64);
            var noise = randn_like(batch.Images);
            var a = alphas.index_select(0, t).view(n, 1, 1, 1);
            var noisy = a.sqrt() * batch.Images + (1 - a).sqrt() * noise;
            var predicted = pipeline.Unet.Forward(noisy, t, pipeline.TextEncoder.Forward(pipeline.TokenIds(batch.Captions)));
            return nn.functional.mse_loss(predicted, noise);
        });
    }

    /// <summary>
    /// One round of progressive distillation (Salimans &amp; Ho 2022): the student (initialised from the teacher by the
    /// caller) learns to make in one DDIM step of a <paramref name="studentSteps"/>-step sampler what the teacher makes
    /// in the steps of its <paramref name="teacherSteps"/>-step sampler that lie in between. Each batch takes one
    /// student step at random, noises the images to its timestep, runs the teacher there, and regresses the student's ε
    /// on the noise that lands on the teacher's result (<see cref="Ddim.NoiseReaching"/>). The text encoder is frozen.
    /// </summary>
    public static void Distill(DiffusionPipeline teacher, DiffusionPipeline student, int teacherSteps, int studentSteps,
        IEnumerable<ImageBatch> batches, TrainingOptions options, IProgress<TrainingStep>? progress = null)
    {
        if (teacherSteps <= studentSteps) throw new ArgumentException("the teacher must take more steps than the student", nameof(teacherSteps));
        var schedule = student.Schedule;
        int[] studentGrid = schedule.Timesteps(studentSteps), teacherGrid = schedule.Timesteps(teacherSteps);
        var parameters = Parameters(student, trainTextEncoder: false);
        teacher.Unet.eval();
        teacher.TextEncoder.eval();
        Loop(student, parameters, batches, options, progress, batch =>
        {
            long n = batch.Images.shape[0];
            int k = (int)randint(0, studentSteps, [1]).item<long>();
            int t = studentGrid[k], target = schedule.PreviousTimestep(t, studentSteps);
            double a = schedule.AlphaBar(t);
            var noisy = Math.Sqrt(a) * batch.Images + Math.Sqrt(1 - a) * randn_like(batch.Images);
            Tensor goal;
            using (no_grad())
            {
                var context = teacher.Encode(batch.Captions);
                var x = noisy;
                int from = t;
                foreach (int to in teacherGrid.Where(s => s < t && s > target).Append(target))
                {
                    var epsilon = teacher.Unet.Forward(x, full([n], from, ScalarType.Int64), context);
                    x = Ddim.Step(schedule, x, epsilon, from, to);
                    from = to;
                }
                goal = Ddim.NoiseReaching(schedule, noisy, x, t, target);
            }
            var predicted = student.Unet.Forward(noisy, full([n], t, ScalarType.Int64), student.Encode(batch.Captions));
            return nn.functional.mse_loss(predicted, goal);
        });
    }

    static List<TorchSharp.Modules.Parameter> Parameters(DiffusionPipeline pipeline, bool trainTextEncoder)
    {
        var parameters = pipeline.Unet.parameters().ToList();
        foreach (var p in pipeline.TextEncoder.parameters()) p.requires_grad = trainTextEncoder;
        if (trainTextEncoder) parameters.AddRange(pipeline.TextEncoder.parameters());
        return parameters;
    }

    /// <summary>
    /// Steps in a row whose loss or gradient norm is not finite before training stops as diverged. Single such steps
    /// are skipped (the weights stay as they were, as mixed-precision training skips a step whose gradients overflowed).
    /// Where libtorch computes wrong gradients now and then (oneDNN's AVX-512 convolutions on an AMD EPYC gave non-finite
    /// gradients of a finite loss at different steps of identical runs, until capped: docs/diffusion.md), one such
    /// step used to turn every weight into NaN.
    /// </summary>
    public const int MaxConsecutiveSkips = 20;

    static void Loop(DiffusionPipeline pipeline, List<TorchSharp.Modules.Parameter> parameters, IEnumerable<ImageBatch> batches,
        TrainingOptions options, IProgress<TrainingStep>? progress, Func<ImageBatch, Tensor> loss)
    {
        pipeline.Unet.train();
        pipeline.TextEncoder.train();
        using var optimizer = optim.AdamW(parameters, lr: options.LearningRate, beta1: options.Beta1, beta2: options.Beta2, weight_decay: options.WeightDecay);
        using var data = batches.GetEnumerator();
        int consecutiveSkips = 0;
        try
        {
            for (int step = 0; step < options.Steps; step++)
            {
                if (!data.MoveNext()) throw new ArgumentException($"the batches ran out after {step} of {options.Steps} steps", nameof(batches));
                double lr = LearningRateSchedule.At(step, options);
                foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
                double value, norm;
                using (var scope = NewDisposeScope())
                {
                    var l = loss(data.Current);
                    optimizer.zero_grad();
                    l.backward();
                    // The norm over all gradients; clipped to GradientClip when set (an infinite limit leaves them).
                    norm = nn.utils.clip_grad_norm_(parameters, options.GradientClip > 0 ? options.GradientClip : double.PositiveInfinity);
                    value = l.item<float>();
                    if (double.IsFinite(value) && double.IsFinite(norm)) optimizer.step();
                }
                data.Current.Images.Dispose();
                bool skipped = !(double.IsFinite(value) && double.IsFinite(norm));
                consecutiveSkips = skipped ? consecutiveSkips + 1 : 0;
                if (consecutiveSkips > MaxConsecutiveSkips)
                    throw new EvoMergeException($"training diverged at step {step + 1} of {options.Steps}: {consecutiveSkips} steps in a row with a loss or gradients that are not finite (loss {value}, gradient norm {norm}, learning rate {lr:G3})");
                progress?.Report(new TrainingStep(step + 1, options.Steps, value, lr, skipped));
            }
        }
        finally
        {
            foreach (var p in pipeline.TextEncoder.parameters()) p.requires_grad = true;
            pipeline.Unet.eval();
            pipeline.TextEncoder.eval();
        }
    }
}
