using EvoMerge.Torch.Model;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Generation;

/// <summary>
/// Greedy generation of many prompts through a fixed number of batch rows ("slots"), refilled as sequences end,
/// instead of batches that run until their longest sequence ends:
/// <list type="bullet">
/// <item>the prompt prefix every item shares (the instruction and few-shot part of an evaluation prompt) is
/// prefilled once, and its keys and values are copied into each new sequence's row;</item>
/// <item>when sequences end (end token, <c>isDone</c>, e.g. a stop string, or the token limit), the next items' prompt
/// remainders are prefilled together, left-padded to one length, in a short step between decode steps, and moved
/// into the freed rows (<see cref="KvCache.LoadRows"/>); decode steps then run every row at its own length;</item>
/// <item>once no items wait, rows that end restart empty (their steps are ignored), and the batch is compacted when
/// half of it is idle.</item>
/// </list>
/// RoPE positions count each sequence's real tokens from its first, so every item produces the tokens
/// <see cref="TokenGenerator"/> produces for it alone (up to float rounding at exact ties).
/// </summary>
public static class ContinuousBatching
{
    /// <param name="prompts">Token ids per item (BOS included if wanted), none empty; similar lengths next to each other pad less.</param>
    /// <param name="options">Greedy: temperature 0 and one beam (sampling and beam search run through <see cref="TokenGenerator"/>).</param>
    /// <param name="isDone">Called after each new token with the item index and its tokens so far; true ends it.</param>
    /// <param name="slots">Batch rows decoding at once.</param>
    /// <returns>The new tokens of each item.</returns>
    public static IReadOnlyList<IReadOnlyList<int>> Generate(ICausalLM model, IReadOnlyList<IReadOnlyList<int>> prompts,
        SamplingOptions options, int? eosId, Func<int, IReadOnlyList<int>, bool>? isDone, int slots)
    {
        options = options.Checked();
        if (options.Temperature != 0 || options.NumBeams != 1)
            throw new ArgumentException("continuous batching is greedy: temperature 0 and one beam", nameof(options));
        if (slots < 1) throw new EvoMergeException($"batch size {slots}: expected 1 or more");
        if (prompts.Any(p => p.Count == 0)) throw new EvoMergeException("generate: a prompt has no tokens (start it with BOS)");
        var generated = Enumerable.Range(0, prompts.Count).Select(_ => new List<int>()).ToArray();
        if (prompts.Count == 0 || options.MaxNewTokens <= 0) return generated;

        using var inference = inference_mode();
        using var sampler = new TokenSampler(0, 1, 0);
        int prefix = SharedPrefix(prompts);
        int rows = Math.Min(slots, prompts.Count);
        int capacity = prefix + prompts.Max(p => p.Count - prefix) + options.MaxNewTokens;
        using var prefixCache = prefix > 0 ? model.NewCache(1, prefix) : null;
        if (prefixCache is not null)
            using (var scope = NewDisposeScope())
                model.Forward(tensor(prompts[0].Take(prefix).Select(t => (long)t).ToArray(), [1L, prefix], device: model.Device), prefixCache, null, lastOnly: true);

        var cache = model.NewCache(rows, capacity);
        try
        {
            var itemOf = Enumerable.Repeat(-1, rows).ToArray();   // the item each row decodes, -1 = idle
            var last = new long[rows];                             // each row's latest token, the next step's input
            int queued = 0;
            while (true)
            {
                // Refill idle rows while items wait; an item may end on its first token and free its row again.
                while (queued < prompts.Count && itemOf.Contains(-1))
                {
                    var free = Enumerable.Range(0, rows).Where(r => itemOf[r] < 0).ToArray();
                    var admitted = Enumerable.Range(queued, Math.Min(free.Length, prompts.Count - queued)).ToArray();
                    queued += admitted.Length;
                    var first = Prefill(model, prompts, admitted, prefix, prefixCache, cache, free, sampler, options, generated);
                    for (int i = 0; i < admitted.Length; i++)
                    {
                        itemOf[free[i]] = admitted[i];
                        last[free[i]] = first[i];
                        if (Take(admitted[i], first[i])) itemOf[free[i]] = -1;
                    }
                }
                int active = itemOf.Count(i => i >= 0);
                if (active == 0) break;
                if (queued == prompts.Count && rows > 1 && active <= rows / 2)
                {
                    // Nothing waits: drop idle rows so the remaining steps compute only live sequences.
                    var live = Enumerable.Range(0, rows).Where(r => itemOf[r] >= 0).ToArray();
                    var smaller = cache.Select([.. live.Select(r => (long)r)]);
                    cache.Dispose();
                    cache = smaller;
                    itemOf = [.. live.Select(r => itemOf[r])];
                    last = [.. live.Select(r => last[r])];
                    rows = live.Length;
                }
                var idle = Enumerable.Range(0, rows).Where(r => itemOf[r] < 0 && cache.RowLength(r) > 0).Select(r => (long)r).ToArray();
                if (idle.Length > 0) cache.ResetRows(idle);
                long[] next;
                using (var scope = NewDisposeScope())
                {
                    var ids = tensor(last, [rows, 1L], device: model.Device);
                    var logits = model.Forward(ids, cache, null, lastOnly: true).squeeze(1);
                    next = sampler.Next(Penalised(logits, itemOf, prompts, generated, options.RepetitionPenalty));
                }
                for (int r = 0; r < rows; r++)
                {
                    if (itemOf[r] < 0) continue;
                    last[r] = next[r];
                    if (Take(itemOf[r], next[r])) itemOf[r] = -1;
                }
            }
        }
        finally { cache.Dispose(); }
        return generated;

        // Records an item's new token; true when the item has ended.
        bool Take(int item, long token)
        {
            if (eosId is int eos && token == eos) return true;
            generated[item].Add((int)token);
            return isDone?.Invoke(item, generated[item]) == true || generated[item].Count >= options.MaxNewTokens;
        }
    }

    /// <summary>
    /// Prefills the prompt remainders of <paramref name="items"/> after the shared prefix, left-padded together, in a
    /// cache that starts from the prefix's keys and values, then moves them into <paramref name="rows"/> of the
    /// decode cache. Returns each item's first token.
    /// </summary>
    static long[] Prefill(ICausalLM model, IReadOnlyList<IReadOnlyList<int>> prompts, int[] items, int prefix, KvCache? prefixCache,
        KvCache cache, int[] rows, TokenSampler sampler, SamplingOptions options, List<int>[] generated)
    {
        int n = items.Length, length = items.Max(i => prompts[i].Count) - prefix;
        var padded = new long[n * length];
        var isToken = new bool[n * length];
        for (int b = 0; b < n; b++)
        {
            var p = prompts[items[b]];
            for (int i = prefix; i < p.Count; i++)
            {
                int at = b * length + length - p.Count + i;
                padded[at] = p[i];
                isToken[at] = true;
            }
        }
        using var scope = NewDisposeScope();
        using var fill = model.NewCache(n, prefix + length);
        if (prefixCache is not null) fill.LoadRows(prefixCache, new long[n], [.. Enumerable.Range(0, n).Select(b => (long)b)]);
        var ids = tensor(padded, [n, (long)length], device: model.Device);
        var mask = items.Any(i => prompts[i].Count - prefix < length) ? tensor(isToken, [n, (long)length], device: model.Device) : null;
        var logits = model.Forward(ids, fill, mask, lastOnly: true).squeeze(1);
        cache.LoadRows(fill, [.. Enumerable.Range(0, n).Select(b => (long)b)], [.. rows.Take(n).Select(r => (long)r)]);
        return sampler.Next(Penalised(logits, items, prompts, generated, options.RepetitionPenalty));
    }

    /// <summary>
    /// Tokens every prompt starts with, leaving each at least one token of its own (its last position's logits
    /// give its first generated token).
    /// </summary>
    public static int SharedPrefix(IReadOnlyList<IReadOnlyList<int>> prompts)
    {
        int shared = prompts.Min(p => p.Count) - 1;
        var first = prompts[0];
        foreach (var p in prompts)
        {
            int i = 0;
            while (i < shared && p[i] == first[i]) i++;
            shared = i;
        }
        return Math.Max(0, shared);
    }

    /// <summary>The logits [rows, vocab] with each row's item's tokens so far penalised (idle rows left alone).</summary>
    static Tensor Penalised(Tensor logits, int[] itemOf, IReadOnlyList<IReadOnlyList<int>> prompts, List<int>[] generated, float penalty)
    {
        if (penalty == 1) return logits;
        var values = logits.to_type(ScalarType.Float32).cpu().data<float>().ToArray();
        int vocab = (int)logits.shape[1];
        for (int r = 0; r < itemOf.Length; r++)
            if (itemOf[r] >= 0)
                RepetitionPenalty.Apply(values.AsSpan(r * vocab, vocab), prompts[itemOf[r]].Concat(generated[itemOf[r]]), penalty);
        return tensor(values, [itemOf.Length, vocab]);
    }
}
