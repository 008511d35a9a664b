namespace EvoMerge.Torch.Generation;

/// <summary>
/// The CTRL repetition penalty (Keskar et al. 2019) as Hugging Face applies it: the score of every token already in
/// the sequence (prompt included) is multiplied by the penalty when negative and divided by it otherwise, so a
/// penalty above 1 makes repeats less likely. Greedy and sampling apply it to the logits, beam search to the
/// log-probabilities.
/// </summary>
public static class RepetitionPenalty
{
    public static void Apply(Span<double> scores, IEnumerable<int> sequence, float penalty)
    {
        if (penalty == 1) return;
        foreach (int t in sequence.Distinct())
            if ((uint)t < (uint)scores.Length) scores[t] = scores[t] < 0 ? scores[t] * penalty : scores[t] / penalty;
    }

    public static void Apply(Span<float> scores, IEnumerable<int> sequence, float penalty)
    {
        if (penalty == 1) return;
        foreach (int t in sequence.Distinct())
            if ((uint)t < (uint)scores.Length) scores[t] = scores[t] < 0 ? scores[t] * penalty : scores[t] / penalty;
    }
}
