namespace EvoMerge.Evolution.Optimizers;

/// <summary>Creates an optimiser by its config name (<c>optimizer.name</c>).</summary>
public static class OptimizerFactory
{
    /// <summary>The single-objective names <see cref="Create"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["cma-es", "cma-es-diagonal", "random"];

    /// <summary>The multi-objective names <see cref="CreateMultiObjective"/> accepts.</summary>
    public static IReadOnlyList<string> MultiObjectiveNames { get; } = ["nsga-ii"];

    /// <summary>
    /// "cma-es" (full covariance), "cma-es-diagonal" (sep-CMA-ES, for long genomes) or "random".
    /// <see cref="OptimizerOptions.IpopRestarts"/> wraps either CMA-ES in <see cref="IpopCmaEs"/>.
    /// </summary>
    public static IOptimizer Create(string name, int dimension, OptimizerOptions options) => name switch
    {
        "cma-es" or "cma-es-diagonal" when options.IpopRestarts => new IpopCmaEs(dimension, options, diagonal: name == "cma-es-diagonal"),
        "cma-es" => new CmaEs(dimension, options),
        "cma-es-diagonal" => new CmaEs(dimension, options, diagonal: true),
        "random" => new RandomSearch(dimension, options),
        _ => throw new EvoMergeException(MultiObjectiveNames.Contains(name)
            ? $"optimizer.name: '{name}' optimises several objectives; give more than one fitness entry, or use one of {string.Join(", ", Names)}"
            : $"optimizer.name: unknown optimiser '{name}'; expected one of {string.Join(", ", Names)}"),
    };

    /// <summary>"nsga-ii" for <paramref name="objectiveCount"/> objectives (each lower is better).</summary>
    public static IMultiObjectiveOptimizer CreateMultiObjective(string name, int dimension, int objectiveCount, OptimizerOptions options) => name switch
    {
        "nsga-ii" => new Nsga2(dimension, objectiveCount, options),
        _ => throw new EvoMergeException(
            $"optimizer.name: '{name}' cannot optimise {objectiveCount} objectives; expected one of {string.Join(", ", MultiObjectiveNames)}"),
    };
}
