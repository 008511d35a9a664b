using System.Text;

namespace EvoMerge.Evaluation.Tasks;

/// <summary>
/// Perplexity of a text, scored in rolling windows: the text is cut into consecutive pieces of at most
/// <c>windowChars</c> characters (at a whitespace where one is near the end), and each piece is scored with up to
/// <c>contextChars</c> preceding characters as context, so every character is scored exactly once and never
/// without some history (except the first piece, which starts from BOS). Windows are in characters because the
/// seam to the model is text; keep window + context within the model's context length.
/// Metrics: token perplexity exp(−Σ log p / Σ tokens), and bits per UTF-8 byte, which compares models with
/// different tokenizers.
/// </summary>
public sealed class PerplexityTask : IEvalTask
{
    readonly string _text;
    readonly (int Start, int Length)[] _windows;
    readonly int _contextChars;

    public string Name { get; }
    public int Count => _windows.Length;

    public PerplexityTask(string name, string text, int windowChars = 1024, int contextChars = 1024)
    {
        if (windowChars < 1) throw new EvoMergeException($"perplexity window must be at least 1 character (got {windowChars})");
        if (contextChars < 0) throw new EvoMergeException($"perplexity context must not be negative (got {contextChars})");
        Name = name;
        _text = text;
        _contextChars = contextChars;
        _windows = Cut(text, windowChars);
    }

    /// <summary>The text of window <paramref name="index"/> and the context it is scored after.</summary>
    public ContinuationRequest WindowOf(int index)
    {
        var (start, length) = _windows[index];
        int contextStart = Math.Max(0, start - _contextChars);
        return new ContinuationRequest(_text[contextStart..start], _text.Substring(start, length));
    }

    public EvalResult Evaluate(ILanguageModel model, Subset? subset = null, EvalRunOptions? run = null)
    {
        var results = BatchLoop.Run(subset, Count, run, batch =>
        {
            var requests = batch.Select(WindowOf).ToArray();
            var scores = BatchLoop.Expect(model.ScoreContinuations(requests), requests.Length, "scores");
            return batch.Select((index, k) => new ItemResult(index, requests[k].Context, requests[k].Continuation, null, "",
                scores[k].IsGreedy, LogLikelihood: scores[k].LogLikelihood, TokenCount: scores[k].TokenCount)).ToArray();
        });
        double logLikelihood = results.Sum(r => r.LogLikelihood!.Value);
        long tokens = results.Sum(r => (long)r.TokenCount!.Value);
        long bytes = results.Sum(r => (long)Encoding.UTF8.GetByteCount(r.Output));
        return new EvalResult(Name, results,
        [
            new Metric("perplexity", TokenPerplexity(results.Select(r => r.LogLikelihood!.Value), results.Select(r => r.TokenCount!.Value)), HigherIsBetter: false),
            new Metric("bits_per_byte", bytes == 0 ? double.NaN : -logLikelihood / (Math.Log(2) * bytes), HigherIsBetter: false),
            new Metric("tokens", tokens),
        ]);
    }

    /// <summary>
    /// exp(−Σ log p / Σ tokens) over windows in item order (NaN without tokens). The one formula for a whole run and
    /// for a score put back together from parts of the windows (<c>ItemParts.Combine</c>): summed in the same order,
    /// the two are equal bit for bit.
    /// </summary>
    public static double TokenPerplexity(IEnumerable<double> logLikelihoods, IEnumerable<int> tokenCounts)
    {
        double logLikelihood = 0;
        foreach (double ll in logLikelihoods) logLikelihood += ll;
        long tokens = 0;
        foreach (int n in tokenCounts) tokens += n;
        return tokens == 0 ? double.NaN : Math.Exp(-logLikelihood / tokens);
    }

    static (int, int)[] Cut(string text, int windowChars)
    {
        var windows = new List<(int, int)>();
        for (int start = 0; start < text.Length;)
        {
            int end = Math.Min(text.Length, start + windowChars);
            if (end < text.Length)
            {
                // Prefer to cut after a whitespace in the window's second half, so words are not split.
                int cut = text.LastIndexOfAny([' ', '\n', '\t'], end - 1, Math.Max(1, windowChars / 2));
                if (cut >= start) end = cut + 1;
                if (char.IsHighSurrogate(text[end - 1]) && end - 1 > start) end--; // never split a surrogate pair
            }
            windows.Add((start, end - start));
            start = end;
        }
        return windows.ToArray();
    }
}
