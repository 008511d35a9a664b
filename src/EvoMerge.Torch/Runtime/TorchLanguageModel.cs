using EvoMerge.Evaluation;
using EvoMerge.Tokenization;
using EvoMerge.Torch.Generation;
using EvoMerge.Torch.Model;

namespace EvoMerge.Torch.Runtime;

/// <summary>
/// <see cref="ILanguageModel"/> over an in-process model (plain or layer path) and a tokenizer: prompts are
/// encoded with BOS, generated with <paramref name="batchSize"/> sequences at once, and cut at the first stop
/// string. Greedy generation uses continuous batching (<see cref="ContinuousBatching"/>: a row is refilled as soon
/// as its sequence ends, the shared prompt prefix is prefilled once); <paramref name="continuousBatching"/> false
/// runs fixed batches of similar prompt length until their longest sequence ends, as before (the benchmark's
/// baseline). Sampling and beam search always run in fixed batches.
/// </summary>
public sealed class TorchLanguageModel(ICausalLM model, ITokenizer tokenizer, int batchSize = 8, bool continuousBatching = true) : ILanguageModel
{
    public IReadOnlyList<string> Generate(IReadOnlyList<string> prompts, GenerationOptions options)
    {
        var results = new string[prompts.Count];
        var stops = options.StopStrings?.Where(s => s.Length > 0).ToArray() ?? [];
        var sampling = new SamplingOptions(options.MaxNewTokens, options.Temperature, options.TopP, options.Seed, options.NumBeams, options.RepetitionPenalty);
        var encoded = prompts.Select(p => tokenizer.Encode(p, addBos: true)).ToArray();
        bool Stopped(int b, IReadOnlyList<int> ids) => stops.Length > 0 && CutAtStop(tokenizer.Decode(ids), stops).Stopped;
        if (continuousBatching && sampling.Temperature == 0 && sampling.NumBeams == 1)
        {
            // Shortest prompts first: each refill prefills prompts of similar length together.
            var order = Enumerable.Range(0, encoded.Length).OrderBy(i => encoded[i].Count).ToArray();
            var outputs = ContinuousBatching.Generate(model, order.Select(i => encoded[i]).ToArray(), sampling, tokenizer.EosId, Stopped, batchSize);
            for (int j = 0; j < order.Length; j++) results[order[j]] = CutAtStop(tokenizer.Decode(outputs[j]), stops).Text;
            return results;
        }
        foreach (var batch in Batches(encoded))
        {
            var generated = TokenGenerator.Generate(model, batch.Select(i => encoded[i]).ToArray(), sampling, tokenizer.EosId, Stopped);
            for (int b = 0; b < batch.Length; b++)
                results[batch[b]] = CutAtStop(tokenizer.Decode(generated[b]), stops).Text;
        }
        return results;
    }

    public IReadOnlyList<ContinuationScore> ScoreContinuations(IReadOnlyList<ContinuationRequest> requests)
    {
        var items = requests.Select(r =>
        {
            // As lm-evaluation-harness: encode the whole text and take the continuation as what follows the
            // context's tokens, so a word split across the boundary is tokenized as the model would see it.
            var context = tokenizer.Encode(r.Context, addBos: true);
            var whole = tokenizer.Encode(r.Context + r.Continuation, addBos: true);
            int shared = Math.Min(context.Count, whole.Count);
            return new TokenContinuation(whole.Take(shared).ToArray(), whole.Skip(shared).ToArray());
        }).ToArray();
        return LogLikelihood.Score(model, items, batchSize)
            .Select(s => new ContinuationScore(s.LogLikelihood, s.TokenCount, s.IsGreedy)).ToArray();
    }

    /// <summary>Indices grouped into batches of similar prompt length (less padding).</summary>
    IEnumerable<int[]> Batches(IReadOnlyList<IReadOnlyList<int>> encoded) =>
        Enumerable.Range(0, encoded.Count).OrderBy(i => encoded[i].Count).Chunk(batchSize);

    /// <summary>The text before the first stop string, and whether one occurred (shared with the vision runtime).</summary>
    public static (string Text, bool Stopped) CutAtStop(string text, IReadOnlyList<string> stops)
    {
        int cut = stops.Select(s => text.IndexOf(s, StringComparison.Ordinal)).Where(i => i >= 0).DefaultIfEmpty(-1).Min();
        return cut >= 0 ? (text[..cut], true) : (text, false);
    }
}
