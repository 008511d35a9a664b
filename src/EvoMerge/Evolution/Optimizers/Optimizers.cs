namespace EvoMerge.Evolution.Optimizers;

/// <summary>Creates an optimiser by its config name.</summary>
public static class Optimizers
{
    /// <summary>The names <see cref="Create"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["cma-es", "cma-es-diagonal", "random"];

    /// <summary>"cma-es", "cma-es-diagonal" (sep-CMA-ES) or "random".</summary>
    public static IOptimizer Create(string name, int dimension, OptimizerOptions options) => name switch
    {
        _ => throw new EvoMergeException(
            $"optimizer.name: unknown optimiser '{name}'; expected one of {string.Join(", ", Names)}"),
    };
}
