using EvoMerge.Evolution.Optimizers;
using EvoMerge.Evolution.Run;

namespace EvoMerge.Reporting;

/// <summary>
/// The non-dominated candidates of a multi-objective stage, from its journal (so a running search has a front too):
/// each task's score is one objective, higher is better, as NSGA-II ranks them.
/// </summary>
public static class ParetoFront
{
    /// <summary>Positions in <paramref name="entries"/> of the candidates no other candidate dominates.</summary>
    public static IReadOnlyList<int> Of(IReadOnlyList<JournalEntry> entries) =>
        entries.Count == 0 ? [] : ParetoRanking.NonDominatedFronts(entries.Select(e => e.Scores.Select(s => -s).ToArray()).ToList())[0];
}
