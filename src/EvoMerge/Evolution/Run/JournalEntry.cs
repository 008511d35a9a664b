using System.Text.Json.Serialization;
using EvoMerge.Candidates;
using EvoMerge.Evaluation.External;

namespace EvoMerge.Evolution.Run;

/// <summary>
/// One line of <c>journal.jsonl</c>: a scored candidate. Written once, after its evaluation completes, and never
/// rewritten; resume replays these lines instead of evaluating again.
/// </summary>
/// <param name="Stage">"ps", "dfs" or "final".</param>
/// <param name="Kind"><see cref="EntryKinds"/>: a search candidate, an anchor scored before the search, a full-dev re-score of a minibatch winner, or a test score.</param>
/// <param name="Generation">Generation of the candidate (for test entries: 0).</param>
/// <param name="Index">Position in its generation's population (rescore: rank; test: row of the comparison table).</param>
/// <param name="Label">Human name (test entries: "source: ./models/ja", "best ps", ...).</param>
/// <param name="Genome">Coordinates in [0,1]; null for source models.</param>
/// <param name="Hash">Genome hash (resume checks the optimiser asks this genome again).</param>
/// <param name="MinibatchSeed">Seed of the dev minibatch scored; null for full data.</param>
/// <param name="Scores">One score per task (fitness tasks, or test tasks for test entries).</param>
/// <param name="Fitness">Weighted sum of the scores (higher is better).</param>
/// <param name="Cached">The decoded candidate equalled an earlier one on the same data: its scores were copied, nothing was evaluated.</param>
/// <param name="Items">Per task, the items scored and each one's score (fitness sharing and attraction are recomputed from these on resume); null in older journals.</param>
/// <param name="Failures">Failed tries of fitness commands, each with the last lines of the program's stderr; absent when none failed.</param>
public sealed record JournalEntry(
    string Stage,
    string Kind,
    int Generation,
    int Index,
    string? Label,
    double[]? Genome,
    string? Hash,
    ModelBuild Candidate,
    int? MinibatchSeed,
    double[] Scores,
    double Fitness,
    double BuildSeconds,
    double ScoreSeconds,
    bool Cached,
    IReadOnlyList<ItemScores>? Items = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<ScorerFailure>? Failures = null);

/// <summary>One task's items and their scores, as a journal line keeps them (see <see cref="TaskOutcome"/>).</summary>
public sealed record ItemScores(int[] Items, double[] Scores)
{
    public static IReadOnlyList<ItemScores> Of(CandidateResult result) => result.Tasks.Select(t => new ItemScores(t.Items, t.ItemScores)).ToList();
}

public static class EntryKinds
{
    public const string Search = "search";
    public const string Rescore = "rescore";
    /// <summary>A search space's anchor (<see cref="Spaces.ISearchSpace.Anchors"/>), scored on the full dev set before generation 0.</summary>
    public const string Anchor = "anchor";
    public const string Test = "test";
}
