using EvoMerge.Evolution.Config;

namespace EvoMerge.Evolution.Run;

/// <summary>
/// <c>summary.json</c>: what each stage cost and found, including the per-candidate overhead (building the
/// candidate in memory vs scoring it), and the comparison table of test scores.
/// </summary>
public sealed record EvolutionSummary(
    string Name,
    int Seed,
    string Space,
    IReadOnlyList<StageSummary> Stages,
    IReadOnlyList<ModelRow> Models,
    double WallSecondsThisSession)
{
    public static EvolutionSummary Create(EvolutionConfig config, IReadOnlyList<StageResult> stages, IReadOnlyList<ModelRow> rows, double wallSeconds) =>
        new(config.Name, config.Seed, config.Space switch { SearchSpaceKind.Ps => "ps", SearchSpaceKind.Dfs => "dfs", _ => "ps+dfs" },
            stages.Select(StageSummary.From).ToList(), rows, wallSeconds);
}

/// <param name="BuildSecondsPerCandidate">Mean time to make a candidate runnable (merge into resident weights, swap).</param>
/// <param name="ScoreSecondsPerCandidate">Mean time to score it.</param>
/// <param name="OverheadRatio">Build ÷ score time: the cost of evolving in memory relative to evaluation.</param>
/// <param name="ParetoFront">With a multi-objective optimiser (nsga-ii, one objective per fitness task): the non-dominated candidates.</param>
public sealed record StageSummary(
    string Stage,
    int Generations,
    int Asked,
    int Evaluations,
    int CacheHits,
    double BestFitness,
    double[]? BestGenome,
    double BuildSecondsPerCandidate,
    double ScoreSecondsPerCandidate,
    double OverheadRatio,
    IReadOnlyList<GenerationStats> History,
    IReadOnlyList<ParetoEntry> ParetoFront)
{
    public static StageSummary From(StageResult r)
    {
        double build = r.Evaluations > 0 ? r.BuildSeconds / r.Evaluations : 0;
        double score = r.Evaluations > 0 ? r.ScoreSeconds / r.Evaluations : 0;
        return new StageSummary(r.Stage, r.Generations.Count, r.Asked, r.Evaluations, r.CacheHits, r.Best.Fitness, r.Best.Genome,
            build, score, score > 0 ? build / score : 0, r.Generations, r.ParetoFront);
    }
}

/// <summary>A row of the final comparison table.</summary>
/// <param name="Kind">"source", "ps" or "dfs".</param>
/// <param name="TestScores">Task → score on the test split.</param>
/// <param name="DevFitness">Fitness on the dev set (searched models only).</param>
/// <param name="Evaluations">Candidates evaluated to find it.</param>
/// <param name="SearchSeconds">Wall time of its search stage (this session).</param>
/// <param name="TestSeconds">Time spent scoring the test split.</param>
public sealed record ModelRow(
    string Label,
    string Kind,
    IReadOnlyDictionary<string, double> TestScores,
    double? DevFitness,
    int Evaluations,
    double SearchSeconds,
    double TestSeconds);
