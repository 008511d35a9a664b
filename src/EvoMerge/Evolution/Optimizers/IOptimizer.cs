namespace EvoMerge.Evolution.Optimizers;

/// <summary>
/// Ask-tell optimiser over the unit box [0,1]^n; lower fitness is better (callers negate accuracy).
/// The same seed and the same sequence of <see cref="Tell"/> values give the same <see cref="Ask"/> results bit
/// for bit, so a run is resumed by replaying its journal through a fresh optimiser.
/// </summary>
public interface IOptimizer
{
    int Dimension { get; }
    /// <summary>Candidates per generation (may grow after an IPOP restart).</summary>
    int PopulationSize { get; }
    /// <summary>Generations told so far.</summary>
    int Generation { get; }
    /// <summary>The optimiser's own stop criteria (restarts are handled inside where enabled).</summary>
    bool IsConverged { get; }
    /// <summary>The next generation's candidates, each inside [0,1]^n.</summary>
    IReadOnlyList<double[]> Ask();
    /// <summary>Fitness of the candidates of the last <see cref="Ask"/>, same order.</summary>
    void Tell(IReadOnlyList<double> fitness);
    /// <summary>JSON-serialisable state for the run folder (mean, sigma, ... per optimiser).</summary>
    OptimizerSnapshot Snapshot();
}

/// <summary>Ask-tell optimiser for several objectives at once (each lower is better) over the unit box.</summary>
public interface IMultiObjectiveOptimizer
{
    int Dimension { get; }
    int ObjectiveCount { get; }
    int PopulationSize { get; }
    int Generation { get; }
    IReadOnlyList<double[]> Ask();
    /// <summary>Objective vectors of the candidates of the last <see cref="Ask"/>, same order.</summary>
    void Tell(IReadOnlyList<double[]> objectives);
    /// <summary>The non-dominated candidates evaluated so far (genome and objectives).</summary>
    IReadOnlyList<ParetoPoint> ParetoFront();
    OptimizerSnapshot Snapshot();
}

/// <summary>A point of a Pareto front: where it is and what it scored.</summary>
public sealed record ParetoPoint(double[] Genome, double[] Objectives);

/// <summary>An optimiser's state after a generation, JSON-serialisable (values are numbers, strings, arrays).</summary>
public sealed record OptimizerSnapshot(string Name, int Generation, IReadOnlyDictionary<string, object> State);

/// <summary>
/// Settings shared by all optimisers. Defaults follow Optuna's CMA-ES sampler, which the paper used:
/// start at 0.5 in every coordinate, σ₀ = 1/6, population 4 + ⌊3 ln n⌋.
/// </summary>
public sealed record OptimizerOptions(
    int Seed = 0,
    int? PopulationSize = null,
    double Sigma0 = 1.0 / 6,
    double[]? Initial = null,
    bool IpopRestarts = false);
