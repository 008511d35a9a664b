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
    /// Step distillation in one round: the student (initialised from the teacher by the caller) learns to make in one
    /// DDIM step of a <paramref name="studentSteps"/>-step sampler what the teacher makes in all the steps of its
    /// <paramref name="teacherSteps"/>-step sampler in between (Salimans &amp; Ho 2022's objective, the teacher taking
    /// all its steps in between rather than two, in one round instead of halving). The student's inputs are points on
    /// the teacher's own sampling trajectories from pure noise, made once before training, one per caption of the first
    /// <paramref name="trajectoryBatches"/> batches (as knowledge distillation, Luhman &amp; Luhman 2021, and reflow
    /// make their pairs): a trajectory costs the teacher <paramref name="teacherSteps"/> forwards once, where noising real
    /// images would cost teacherSteps/studentSteps forwards at every training step, so a 32-step teacher (clean samples)
    /// is affordable. Each training step draws as many trajectories as a batch holds and, for each, one of the student's
    /// timesteps, and regresses the student's ε on the noise that lands on the teacher's next point (<see cref="Ddim.NoiseReaching"/>).
    /// The student's grid must be part of the teacher's. The text encoder is frozen.
    /// </summary>
    public static void Distill(DiffusionPipeline teacher, DiffusionPipeline student, int teacherSteps, int studentSteps,
        IEnumerable<ImageBatch> batches, int trajectoryBatches, TrainingOptions options, IProgress<TrainingStep>? progress = null)
    {
        if (teacherSteps <= studentSteps) throw new ArgumentException("the teacher must take more steps than the student", nameof(teacherSteps));
        if (trajectoryBatches < 1) throw new ArgumentException("at least one batch of trajectories", nameof(trajectoryBatches));
        var schedule = student.Schedule;
        int[] studentGrid = schedule.Timesteps(studentSteps), teacherGrid = schedule.Timesteps(teacherSteps);
        if (studentGrid.Except(teacherGrid).Any())
            throw new ArgumentException($"the student's timesteps ({string.Join(", ", studentGrid)}) must be among the teacher's", nameof(teacherSteps));
        var (inputs, goals, contexts) = Trajectories(teacher, student, teacherGrid, studentGrid, batches.Take(trajectoryBatches));
        using (inputs) using (goals) using (contexts)
        {
            long count = contexts.shape[0], batchSize = Math.Max(1, count / trajectoryBatches);   // the batches' own size
            using var timesteps = tensor(studentGrid.Select(t => (long)t).ToArray());
            var parameters = Parameters(student, trainTextEncoder: false);
            Loop(student, parameters, Enumerable.Repeat(0, options.Steps), options, progress, _ =>
            {
                var which = randint(0, count, [batchSize], dtype: ScalarType.Int64);
                var k = randint(0, studentSteps, [batchSize], dtype: ScalarType.Int64);
                var flat = which * studentSteps + k;   // row of the (trajectory, timestep) pair in the flattened tensors
                var predicted = student.Unet.Forward(inputs.index_select(0, flat), timesteps.index_select(0, k), contexts.index_select(0, which));
                return nn.functional.mse_loss(predicted, goals.index_select(0, flat));
            });
        }
    }

    /// <summary>
    /// The teacher's trajectories for the captions of <paramref name="batches"/>, flattened to [trajectories × studentSteps,
    /// …] rows (trajectory-major): the point at each of the student's timesteps; the ε that takes the student's sampler
    /// one step from there (to <see cref="NoiseSchedule.PreviousTimestep"/>) onto the teacher's next point there (or its
    /// final image); and the frozen text encoder's context of each caption, [trajectories, …].
    /// </summary>
    static (Tensor Inputs, Tensor Goals, Tensor Contexts) Trajectories(DiffusionPipeline teacher, DiffusionPipeline student,
        int[] teacherGrid, int[] studentGrid, IEnumerable<ImageBatch> batches)
    {
        var schedule = student.Schedule;
        teacher.Unet.eval();
        teacher.TextEncoder.eval();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        List<Tensor> inputs = [], goals = [], contexts = [];
        foreach (var batch in batches)
        {
            using var batchScope = NewDisposeScope();   // the teacher's activations go with each batch
            long n = batch.Images.shape[0];
            var context = teacher.Encode(batch.Captions);
            var x = randn_like(batch.Images);
            batch.Images.Dispose();
            var points = new List<Tensor>();
            for (int i = 0; i < teacherGrid.Length; i++)
            {
                int t = teacherGrid[i], next = i + 1 < teacherGrid.Length ? teacherGrid[i + 1] : -1;
                if (studentGrid.Contains(t)) points.Add(x);
                x = Ddim.Step(schedule, x, teacher.Unet.Forward(x, full([n], t, ScalarType.Int64), context), t, next);
            }
            points.Add(x);
            inputs.Add(stack(points.Take(studentGrid.Length), 1).flatten(0, 1).MoveToOuterDisposeScope());
            goals.Add(stack(studentGrid.Select((t, j) => Ddim.NoiseReaching(schedule, points[j], points[j + 1], t, schedule.PreviousTimestep(t, studentGrid.Length))), 1)
                .flatten(0, 1).MoveToOuterDisposeScope());
            contexts.Add(student.Encode(batch.Captions).MoveToOuterDisposeScope());
        }
        return (cat(inputs, 0).MoveToOuterDisposeScope(), cat(goals, 0).MoveToOuterDisposeScope(), cat(contexts, 0).MoveToOuterDisposeScope());
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

    static void Loop<TBatch>(DiffusionPipeline pipeline, List<TorchSharp.Modules.Parameter> parameters, IEnumerable<TBatch> batches,
        TrainingOptions options, IProgress<TrainingStep>? progress, Func<TBatch, Tensor> loss)
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
                (data.Current as ImageBatch)?.Images.Dispose();
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
