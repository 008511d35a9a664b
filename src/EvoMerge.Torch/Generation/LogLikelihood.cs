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
        using var inference = inference_mode();   // no autograd bookkeeping at all (faster than no_grad)
        for (int start = 0; start < order.Length; start += batchSize)
        {
            var chunk = order.Skip(start).Take(batchSize).ToArray();
            foreach (int i in chunk)
                if (items[i].Context.Count == 0)
                    throw new EvoMergeException("score: a context has no tokens (start it with BOS)");
            int length = chunk.Max(i => items[i].Context.Count + items[i].Continuation.Count) - 1;
            if (length <= 0) { foreach (int i in chunk) results[i] = (0, 0, true); continue; }
            // Inputs are every token but the last; targets every token but the first (0 where padding).
            var ids = new long[chunk.Length * length];
            var targets = new long[chunk.Length * length];
            for (int r = 0; r < chunk.Length; r++)
            {
                var all = items[chunk[r]].Context.Concat(items[chunk[r]].Continuation).ToArray();
                for (int t = 0; t < all.Length - 1; t++) (ids[r * length + t], targets[r * length + t]) = (all[t], all[t + 1]);
            }
            float[] logProb;
            bool[] isArgmax;
            using (var scope = NewDisposeScope())
            {
                var shape = new long[] { chunk.Length, length };
                var logits = model.Forward(tensor(ids, shape, device: model.Device)).to_type(ScalarType.Float32);
                var target = tensor(targets, shape, device: model.Device);
                // log p(target) = logit(target) - logsumexp(logits): no [batch, time, vocab] log-softmax copy.
                var picked = logits.gather(-1, target.unsqueeze(-1)).squeeze(-1);
                logProb = (picked - logits.logsumexp(-1)).cpu().data<float>().ToArray();
                isArgmax = (logits.argmax(-1) == target).cpu().data<bool>().ToArray();
            }
            for (int r = 0; r < chunk.Length; r++)
            {
                var (context, continuation) = items[chunk[r]];
                double sum = 0;
                bool isGreedy = true;
                for (int j = 0; j < continuation.Count; j++)
                {
                    int at = r * length + context.Count - 1 + j;
                    sum += logProb[at];
                    isGreedy &= isArgmax[at];
                }
                results[chunk[r]] = (sum, continuation.Count, isGreedy);
            }
        }
        return results;
    }
}
