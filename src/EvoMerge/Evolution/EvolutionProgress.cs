namespace EvoMerge.Evolution;

/// <summary>A snapshot of a running search, reported after every evaluation (the CLI draws it live).</summary>
/// <param name="Stage">"ps" or "dfs" while searching; "final" while writing and test-scoring the result.</param>
/// <param name="Generation">Zero-based generation being evaluated.</param>
/// <param name="Generations">Generations planned (null when bounded by evaluations only).</param>
/// <param name="Evaluated">Candidates of this generation done so far, of <paramref name="Population"/>.</param>
/// <param name="Best">Best fitness of the stage so far (null before the first generation completes).</param>
/// <param name="Mean">Mean fitness of the last completed generation.</param>
/// <param name="Sigma">The optimiser's step size after the last generation, where it has one.</param>
/// <param name="EvaluationsPerSecond">Real evaluations (cache hits and replayed ones excluded) per wall second.</param>
/// <param name="Remaining">Estimated time left in this stage.</param>
public sealed record EvolutionProgress(
    string Stage,
    int Generation,
    int? Generations,
    int Evaluated,
    int Population,
    double? Best,
    double? Mean,
    double? Sigma,
    double EvaluationsPerSecond,
    TimeSpan? Remaining,
    string? Message = null);
