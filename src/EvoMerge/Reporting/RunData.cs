using EvoMerge.Candidates;
using EvoMerge.Evolution.M2n2;
using EvoMerge.Evolution.Run;
using EvoMerge.Merge.Recipes;

namespace EvoMerge.Reporting;

/// <summary>
/// What a run folder holds, as <c>evomerge report</c> and the dashboard show it: per stage, each generation's best
/// and mean and the best so far (computed from the journal, so a report of a running or killed run works too), each
/// stage's best candidate, and the comparison table from summary.json once the run has finished.
/// </summary>
public sealed record RunData(string Root, IReadOnlyList<StageData> Stages, EvolutionSummary? Summary)
{
    public static RunData Load(string runDirectory)
    {
        var folder = new RunFolder(runDirectory);
        var stages = StagesOf(Journal.Read(folder.JournalFile)).Select(s => s with { M2n2 = M2n2Of(folder, s.Stage) }).ToList();
        if (stages.Count == 0) throw new EvoMergeException($"{folder.JournalFile}: no candidate has been scored yet");
        var summary = File.Exists(folder.SummaryFile) ? RunJson.ReadFile<EvolutionSummary>(folder.SummaryFile) : null;
        return new RunData(folder.Root, stages, summary);
    }

    /// <summary>An M2N2 stage's report (coverage, family tree, split points), once the stage has finished.</summary>
    static M2n2Report? M2n2Of(RunFolder folder, string stage)
    {
        string file = Path.Combine(folder.Stage(stage), "m2n2-report.json");
        return File.Exists(file) ? RunJson.ReadFile<M2n2Report>(file) : null;
    }

    /// <summary>The search stages' series, in the order the journal first mentions them (test entries are not a stage).</summary>
    public static List<StageData> StagesOf(IEnumerable<JournalEntry> entries) =>
        entries.Where(e => e.Kind != EntryKinds.Test).GroupBy(e => e.Stage).Select(StageData.From).ToList();
}

/// <param name="Best">Per generation: best candidate fitness (on its minibatch, if any).</param>
/// <param name="BestSoFar">Per generation: best full-dev fitness found up to it.</param>
/// <param name="Winner">The stage's best candidate on the full dev set.</param>
/// <param name="M2n2">An M2N2 stage's report, read by <see cref="RunData.Load"/> when the stage has written it.</param>
public sealed record StageData(string Stage, double[] Best, double[] Mean, double[] BestSoFar, JournalEntry Winner, M2n2Report? M2n2 = null)
{
    public static StageData From(IGrouping<string, JournalEntry> stage)
    {
        var generations = stage.GroupBy(e => e.Generation).OrderBy(g => g.Key).ToList();
        var best = new List<double>();
        var mean = new List<double>();
        var bestSoFar = new List<double>();
        JournalEntry? winner = null;
        foreach (var generation in generations)
        {
            var search = generation.Where(e => e.Kind == EntryKinds.Search).ToList();
            if (search.Count == 0) continue;
            best.Add(search.Max(e => e.Fitness));
            mean.Add(search.Average(e => e.Fitness));
            // Minibatch scores are not comparable across generations: the best is judged on the full dev set.
            foreach (var e in generation.Where(e => e.MinibatchSeed is null))
                if (winner is null || e.Fitness > winner.Fitness) winner = e;
            bestSoFar.Add(winner?.Fitness ?? double.NaN);
        }
        return new StageData(stage.Key, [.. best], [.. mean], [.. bestSoFar], winner ?? stage.MaxBy(e => e.Fitness)!);
    }

    public GroupedRecipe? PsRecipe => (Winner.Candidate as MergeBuild)?.Recipe;
    public LayerPath? Path => (Winner.Candidate as PathBuild)?.Path;
}
