using EvoMerge.Torch.Model;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Generation;

/// <summary>Token ids of a context and of the continuation to score after it.</summary>
public readonly record struct TokenContinuation(IReadOnlyList<int> Context, IReadOnlyList<int> Continuation);

/// <summary>
/// Log-likelihood of continuations: one causal forward over context + continuation (right-padded batches, no
/// cache), summing log-softmax of each continuation token at the position before it.
/// </summary>
public static class LogLikelihood
{
    public static IReadOnlyList<(double LogLikelihood, int TokenCount, bool IsGreedy)> Score(ICausalLM model,
        IReadOnlyList<TokenContinuation> items, int batchSize = 8)
    {
        var results = new (double, int, bool)[items.Count];
        // Similar lengths together waste less padding.
        var order = Enumerable.Range(0, items.Count).OrderBy(i => items[i].Context.Count + items[i].Continuation.Count).ToArray();
        using var noGrad = no_grad();
        for (int start = 0; start < order.Length; start += batchSize)
        {
            var chunk = order.Skip(start).Take(batchSize).ToArray();
            foreach (int i in chunk)
                if (items[i].Context.Count == 0)
                    throw new EvoMergeException("score: a context has no tokens (start it with BOS)");
            int length = chunk.Max(i => items[i].Context.Count + items[i].Continuation.Count) - 1;
            if (length <= 0) { foreach (int i in chunk) results[i] = (0, 0, true); continue; }
            var ids = new long[chunk.Length * length];
            for (int r = 0; r < chunk.Length; r++)
            {
                var all = items[chunk[r]].Context.Concat(items[chunk[r]].Continuation).ToArray();
                for (int t = 0; t < all.Length - 1; t++) ids[r * length + t] = all[t];
            }
            using var scope = NewDisposeScope();
            var logits = model.Forward(tensor(ids, [chunk.Length, (long)length], device: model.Device));
            var logProbs = nn.functional.log_softmax(logits.to_type(ScalarType.Float32), -1).cpu();
            var greedy = logProbs.argmax(-1);
            for (int r = 0; r < chunk.Length; r++)
            {
                var (context, continuation) = items[chunk[r]];
                double sum = 0;
                bool isGreedy = true;
                for (int j = 0; j < continuation.Count; j++)
                {
                    long pos = context.Count - 1 + j;
                    sum += logProbs[r, pos, continuation[j]].item<float>();
                    isGreedy &= greedy[r, pos].item<long>() == continuation[j];
                }
                results[chunk[r]] = (sum, continuation.Count, isGreedy);
            }
        }
        return results;
    }
}
