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
/// fitness sharing and cheap-fitness estimators need.
/// </summary>
/// <param name="Items">Item indices into the task's data, ascending as scored.</param>
/// <param name="ItemScores">The score of each of <paramref name="Items"/>.</param>
public sealed record TaskOutcome(double Score, int[] Items, double[] ItemScores)
{
    public static TaskOutcome Of(EvalResult result) => new(
        result.Primary.HigherIsBetter ? result.Primary.Value : -result.Primary.Value,
        result.Items.Select(i => i.Index).ToArray(),
        result.Items.Select(ItemScore).ToArray());

    static double ItemScore(ItemResult item) =>
        item.LogLikelihood is double ll && item.TokenCount is > 0 ? ll / item.TokenCount.Value : item.Correct ? 1 : 0;
}
