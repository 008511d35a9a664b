using EvoMerge.Torch.Model;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Generation;

/// <param name="MaxNewTokens">Upper bound on generated tokens per sequence.</param>
/// <param name="Temperature">0 means greedy.</param>
/// <param name="TopP">Nucleus mass (1 = off).</param>
/// <param name="NumBeams">Above 1: beam search with that many beams (<see cref="BeamSearch"/>); needs temperature 0.</param>
/// <param name="RepetitionPenalty">Above 1: tokens already in the sequence become less likely (<see cref="Generation.RepetitionPenalty"/>).</param>
public sealed record SamplingOptions(int MaxNewTokens = 256, float Temperature = 0, float TopP = 1, int Seed = 0, int NumBeams = 1, float RepetitionPenalty = 1)
{
    /// <summary>Checks the values: one-line errors naming the option.</summary>
    public SamplingOptions Checked() =>
        NumBeams < 1 ? throw new EvoMergeException($"num beams {NumBeams}: expected 1 (greedy or sampling) or more")
        : !(RepetitionPenalty > 0) || float.IsInfinity(RepetitionPenalty) ? throw new EvoMergeException($"repetition penalty {RepetitionPenalty}: expected a positive number (1 = off)")
        : this;
}

/// <summary>
/// Batched generation with a KV cache: prompts are left-padded to one length and prefilled in one forward,
/// then each step feeds one token per sequence. Positions count real tokens only, so a padded prompt
/// produces the same tokens as the same prompt alone.
/// </summary>
public static class TokenGenerator
{
    /// <param name="prompts">Token ids per sequence (BOS included if wanted), none empty.</param>
    /// <param name="eosId">Generation of a sequence ends at this token (not returned).</param>
    /// <param name="isDone">Called after each new token with the sequence index and its tokens so far; true ends it.</param>
    /// <returns>The new tokens of each sequence.</returns>
    public static IReadOnlyList<IReadOnlyList<int>> Generate(ICausalLM model, IReadOnlyList<IReadOnlyList<int>> prompts,
        SamplingOptions options, int? eosId, Func<int, IReadOnlyList<int>, bool>? isDone = null)
    {
        if (prompts.Count == 0) return [];
        if (prompts.Any(p => p.Count == 0)) throw new EvoMergeException("generate: a prompt has no tokens (start it with BOS)");
        options = options.Checked();
        if (options.NumBeams > 1 && options.MaxNewTokens > 0) return BeamSearch.Generate(model, prompts, options, eosId);
        int batch = prompts.Count, promptLength = prompts.Max(p => p.Count);
        var generated = Enumerable.Range(0, batch).Select(_ => new List<int>()).ToArray();
        if (options.MaxNewTokens <= 0) return generated;

        var padded = new long[batch * promptLength];
        var isToken = new bool[batch * promptLength];
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < prompts[b].Count; i++)
            {
                int at = b * promptLength + promptLength - prompts[b].Count + i;
                padded[at] = prompts[b][i];
                isToken[at] = true;
            }
        bool anyPadding = prompts.Any(p => p.Count < promptLength);

        using var inference = inference_mode();   // no autograd bookkeeping at all (faster than no_grad)
        using var sampler = new TokenSampler(options.Temperature, options.TopP, options.Seed);
        using var cache = model.NewCache(batch, promptLength + options.MaxNewTokens);
        var active = Enumerable.Repeat(true, batch).ToArray();
        long[] next;
        using (var scope = NewDisposeScope())
        {
            var ids = tensor(padded, [batch, promptLength], device: model.Device);
            var mask = anyPadding ? tensor(isToken, [batch, promptLength], device: model.Device) : null;
            next = sampler.Next(Penalised(model.Forward(ids, cache, mask, lastOnly: true).squeeze(1), prompts, generated, options.RepetitionPenalty));
        }
        for (int step = 0; ; step++)
        {
            for (int b = 0; b < batch; b++)
            {
                if (!active[b]) continue;
                if (eosId is int eos && next[b] == eos) { active[b] = false; continue; }
                generated[b].Add((int)next[b]);
                if (isDone?.Invoke(b, generated[b]) == true) active[b] = false;
            }
            if (step + 1 >= options.MaxNewTokens || !active.Any(a => a)) break;
            using var scope = NewDisposeScope();
            var ids = tensor(next, [batch, 1L], device: model.Device);
            next = sampler.Next(Penalised(model.Forward(ids, cache, null, lastOnly: true).squeeze(1), prompts, generated, options.RepetitionPenalty));
        }
        return generated;
    }

    /// <summary>The logits [batch, vocab] with each sequence's tokens so far (prompt and generated) penalised.</summary>
    static Tensor Penalised(Tensor logits, IReadOnlyList<IReadOnlyList<int>> prompts, List<int>[] generated, float penalty)
    {
        if (penalty == 1) return logits;
        var values = logits.to_type(ScalarType.Float32).cpu().data<float>().ToArray();
        int vocab = (int)logits.shape[1];
        for (int b = 0; b < prompts.Count; b++)
            RepetitionPenalty.Apply(values.AsSpan(b * vocab, vocab), prompts[b].Concat(generated[b]), penalty);
        return tensor(values, [prompts.Count, vocab]);
    }
}
