using EvoMerge.Evaluation;
using EvoMerge.Evaluation.External;

namespace EvoMerge.Candidates;

/// <summary>What an evaluator returns for one <see cref="CandidateWork"/>: a score per task, with its items, and the time spent.</summary>
/// <param name="Tasks">One outcome per task of the work, in its order.</param>
/// <param name="BuildSeconds">Time spent making the candidate runnable (merge into resident weights, path swap, load).</param>
/// <param name="ScoreSeconds">Time spent running the tasks.</param>
/// <param name="Failures">Failed tries of fitness commands (retried, or skipped by policy); null when none failed.</param>
public sealed record CandidateResult(string Key, IReadOnlyList<TaskOutcome> Tasks, double BuildSeconds, double ScoreSeconds,
    IReadOnlyList<ScorerFailure>? Failures = null)
{
    /// <summary>The headline score of each task, higher is better.</summary>
    public double[] Scores => Tasks.Select(t => t.Score).ToArray();
}

/// <summary>
/// One task's outcome: the score a search maximises (the headline metric, negated where lower is better) and each
/// scored item's own score (1 or 0 for solved or not; for perplexity windows the log-likelihood per token), which
/// fitness sharing and cheap-fitness estimators need. <see cref="Metric"/> and, for perplexity, each item's
/// log-likelihood and token count are what <see cref="ItemParts.Combine"/> needs to recompute the score exactly from
/// the outcomes of disjoint parts of the items.
/// </summary>
/// <param name="Items">Item indices into the task's data, ascending as scored.</param>
/// <param name="ItemScores">The score of each of <paramref name="Items"/>.</param>
/// <param name="Metric">The headline metric's name ("acc", "perplexity", ...); null when the evaluator does not say.</param>
/// <param name="ItemLogLikelihoods">Perplexity: each item's log-likelihood (null for other tasks).</param>
/// <param name="ItemTokens">Perplexity: each item's token count (null for other tasks).</param>
public sealed record TaskOutcome(double Score, int[] Items, double[] ItemScores, string? Metric = null,
    double[]? ItemLogLikelihoods = null, int[]? ItemTokens = null)
{
    public static TaskOutcome Of(EvalResult result)
    {
        bool perToken = result.Items.All(i => i.LogLikelihood is not null && i.TokenCount is not null);
        return new(
            result.Primary.HigherIsBetter ? result.Primary.Value : -result.Primary.Value,
            result.Items.Select(i => i.Index).ToArray(),
            result.Items.Select(ItemScore).ToArray(),
            result.Primary.Name,
            perToken ? result.Items.Select(i => i.LogLikelihood!.Value).ToArray() : null,
            perToken ? result.Items.Select(i => i.TokenCount!.Value).ToArray() : null);
    }

    static double ItemScore(ItemResult item) =>
        item.LogLikelihood is double ll && item.TokenCount is > 0 ? ll / item.TokenCount.Value : item.Correct ? 1 : 0;
}
