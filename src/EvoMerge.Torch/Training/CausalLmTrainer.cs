using TorchSharp;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Training;

/// <summary>
/// Trains any module that maps token ids [batch, time] to logits [batch, time, vocab] on batches of token
/// sequences. Deterministic on one machine for one seed and thread count: the caller's data order is fixed, torch's
/// generator is seeded here, and CPU kernels run with the thread count the caller set.
/// </summary>
public static class CausalLmTrainer
{
    /// <summary>Seeds torch's generator; call before creating (initialising) the model.</summary>
    public static void Seed(int seed) => random.manual_seed(seed);

    /// <param name="batches">At least <see cref="TrainingOptions.Steps"/> batches of token sequences.</param>
    public static void Train(nn.Module<Tensor, Tensor> model, IEnumerable<IReadOnlyList<IReadOnlyList<int>>> batches,
        int padId, TrainingOptions options, IProgress<TrainingStep>? progress = null)
    {
        model.train();
        var parameters = model.parameters().ToList();
        using var optimizer = optim.AdamW(parameters, lr: options.LearningRate, beta1: options.Beta1, beta2: options.Beta2,
            weight_decay: options.WeightDecay);
        using var data = batches.GetEnumerator();
        for (int step = 0; step < options.Steps; step++)
        {
            if (!data.MoveNext()) throw new ArgumentException($"the batches ran out after {step} of {options.Steps} steps", nameof(batches));
            double lr = LearningRateSchedule.At(step, options);
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
            double loss;
            using (var scope = NewDisposeScope())
            {
                var (inputs, targets) = TokenBatch.Create(data.Current, padId);
                var logits = model.forward(inputs);
                var lossTensor = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), targets.reshape(-1),
                    ignore_index: TokenBatch.Ignore);
                optimizer.zero_grad();
                lossTensor.backward();
                if (options.GradientClip > 0) nn.utils.clip_grad_norm_(parameters, options.GradientClip);
                optimizer.step();
                loss = lossTensor.item<float>();
            }
            progress?.Report(new TrainingStep(step + 1, options.Steps, loss, lr));
        }
        model.eval();
    }
}
