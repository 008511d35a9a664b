using EvoMerge.Torch.Model;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Generation;

/// <summary>
/// Beam search as Hugging Face's <c>generate(num_beams=K)</c> does it (the EvoVLM-JP evaluation: K = 5, repetition
/// penalty 1.5), batched over prompts with one KV cache of prompts × K rows that is reordered after every step:
/// <list type="number">
/// <item>the prompt is prefilled once, then widened to K beams; only beam 0 starts live (the others at −∞), so the
/// first step picks the K best first tokens;</item>
/// <item>each step: log-softmax of the logits, the repetition penalty applied to those log-probabilities (every token
/// of the prompt or of the beam so far: ×p when negative, ÷p otherwise), plus the beam's running score; the 2K best
/// (beam, token) pairs over all beams, best first;</item>
/// <item>in that order, an end-of-sequence candidate ranked within the first K ends a hypothesis (its score divided by
/// its generated length, at least 1, to the power <c>lengthPenalty</c>; the best K hypotheses are kept), ranked
/// later it is dropped; other candidates continue as the next beams until K are chosen;</item>
/// <item>a prompt is done when it has K hypotheses and the worst is at least the best live beam's score over the
/// current generated length (early_stopping false); at <c>MaxNewTokens</c> the live beams join the hypotheses;</item>
/// <item>the answer is the best hypothesis, without its end token.</item>
/// </list>
/// </summary>
public static class BeamSearch
{
    sealed class Hypotheses(int keep, double lengthPenalty)
    {
        readonly List<(double Score, List<int> Tokens)> _list = [];

        public int Count => _list.Count;

        public double Worst => _list.Count == 0 ? double.PositiveInfinity : _list.Min(h => h.Score);

        public void Add(List<int> tokens, double sumLogProbs)
        {
            double score = sumLogProbs / Math.Pow(Math.Max(1, tokens.Count), lengthPenalty);
            if (_list.Count < keep || score > Worst)
            {
                _list.Add((score, tokens));
                if (_list.Count > keep) _list.RemoveAt(_list.FindIndex(h => h.Score == _list.Min(x => x.Score)));
            }
        }

        public bool IsDone(double bestLiveScore, int generated) =>
            _list.Count >= keep && Worst >= bestLiveScore / Math.Pow(Math.Max(1, generated), lengthPenalty);

        public List<int> Best => _list.MaxBy(h => h.Score).Tokens;
    }

    /// <returns>The new tokens of each prompt's best hypothesis.</returns>
    public static IReadOnlyList<IReadOnlyList<int>> Generate(ICausalLM model, IReadOnlyList<IReadOnlyList<int>> prompts,
        SamplingOptions options, int? eosId, double lengthPenalty = 1.0)
    {
        int k = options.NumBeams, batch = prompts.Count, promptLength = prompts.Max(p => p.Count), vocab = model.Config.VocabSize;
        if (options.Temperature != 0) throw new EvoMergeException($"beam search ({k} beams) is deterministic; set the temperature to 0");
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

        using var inference = inference_mode();
        var prefill = model.NewCache(batch, promptLength + options.MaxNewTokens);
        float[] logits;
        using (var scope = NewDisposeScope())
        {
            var ids = tensor(padded, [batch, promptLength], device: model.Device);
            var mask = anyPadding ? tensor(isToken, [batch, promptLength], device: model.Device) : null;
            var last = model.Forward(ids, prefill, mask, lastOnly: true).squeeze(1);
            // Each prompt's logits repeated for its K beams.
            logits = last.repeat_interleave(k, 0).to_type(ScalarType.Float32).cpu().data<float>().ToArray();
        }
        var cache = prefill.Select([.. Enumerable.Range(0, batch * k).Select(r => (long)(r / k))]);
        prefill.Dispose();
        try
        {
            var beams = Enumerable.Range(0, batch * k).Select(_ => new List<int>()).ToArray();
            var scores = Enumerable.Range(0, batch * k).Select(r => r % k == 0 ? 0.0 : double.NegativeInfinity).ToArray();
            var hypotheses = Enumerable.Range(0, batch).Select(_ => new Hypotheses(k, lengthPenalty)).ToArray();
            var done = new bool[batch];
            for (int step = 0; step < options.MaxNewTokens; step++)
            {
                var nextTokens = new long[batch * k];
                var nextRows = new long[batch * k];
                var nextScores = new double[batch * k];
                var wasDone = done.ToArray();   // a finished prompt's rows still run (the batch moves together) but are ignored
                for (int b = 0; b < batch; b++)
                {
                    if (wasDone[b]) { for (int j = 0; j < k; j++) nextRows[b * k + j] = b * k + j; continue; }
                    var candidates = new List<(double Score, int Beam, int Token)>();
                    for (int j = 0; j < k; j++)
                    {
                        int row = b * k + j;
                        if (double.IsNegativeInfinity(scores[row])) continue;
                        var logProbs = LogSoftmax(logits.AsSpan(row * vocab, vocab));
                        RepetitionPenalty.Apply(logProbs, prompts[b].Concat(beams[row]), options.RepetitionPenalty);
                        foreach (int t in TopIndices(logProbs, 2 * k)) candidates.Add((scores[row] + logProbs[t], j, t));
                    }
                    candidates.Sort((x, y) => y.Score.CompareTo(x.Score) is var c && c != 0 ? c : (x.Beam * vocab + x.Token).CompareTo(y.Beam * vocab + y.Token));
                    int chosen = 0;
                    for (int rank = 0; rank < Math.Min(2 * k, candidates.Count) && chosen < k; rank++)
                    {
                        var (score, beam, token) = candidates[rank];
                        if (eosId is int eos && token == eos)
                        {
                            if (rank < k) hypotheses[b].Add([.. beams[b * k + beam]], score);
                            continue;
                        }
                        int to = b * k + chosen++;
                        nextRows[to] = b * k + beam;
                        nextTokens[to] = token;
                        nextScores[to] = score;
                    }
                    for (; chosen < k; chosen++) { nextRows[b * k + chosen] = b * k; nextScores[b * k + chosen] = double.NegativeInfinity; }
                    done[b] = hypotheses[b].IsDone(nextScores.AsSpan(b * k, k).ToArray().Max(), beams[b * k].Count);
                }
                var reordered = new List<int>[batch * k];
                for (int r = 0; r < batch * k; r++)
                {
                    if (wasDone[r / k]) { reordered[r] = beams[r]; continue; }
                    reordered[r] = [.. beams[nextRows[r]], (int)nextTokens[r]];
                    scores[r] = nextScores[r];
                }
                beams = reordered;
                if (done.All(d => d) || step + 1 == options.MaxNewTokens) break;
                var next = cache.Select(nextRows);
                cache.Dispose();
                cache = next;
                using var scope = NewDisposeScope();
                var ids = tensor(nextTokens, [batch * k, 1L], device: model.Device);
                logits = model.Forward(ids, cache, null, lastOnly: true).squeeze(1).to_type(ScalarType.Float32).cpu().data<float>().ToArray();
            }
            for (int b = 0; b < batch; b++)
                if (!done[b])
                    for (int j = 0; j < k; j++)
                        if (!double.IsNegativeInfinity(scores[b * k + j])) hypotheses[b].Add(beams[b * k + j], scores[b * k + j]);
            return hypotheses.Select(h => (IReadOnlyList<int>)h.Best).ToArray();
        }
        finally { cache.Dispose(); }
    }

    static double[] LogSoftmax(ReadOnlySpan<float> logits)
    {
        double max = double.NegativeInfinity;
        foreach (float l in logits) max = Math.Max(max, l);
        double sum = 0;
        foreach (float l in logits) sum += Math.Exp(l - max);
        double log = max + Math.Log(sum);
        var result = new double[logits.Length];
        for (int i = 0; i < logits.Length; i++) result[i] = logits[i] - log;
        return result;
    }

    /// <summary>The <paramref name="n"/> largest entries, best first (ties: lower index first).</summary>
    static IEnumerable<int> TopIndices(double[] values, int n) =>
        Enumerable.Range(0, values.Length).OrderByDescending(i => values[i]).ThenBy(i => i).Take(n);
}
