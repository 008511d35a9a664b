namespace EvoMerge.Evolution.Optimizers;

/// <summary>The search domain every optimiser works in, [0,1]^n, and the checks shared by all of them.</summary>
internal static class UnitBox
{
    public static bool Contains(ReadOnlySpan<double> x)
    {
        foreach (double v in x)
            if (!(v >= 0 && v <= 1)) return false;
        return true;
    }

    public static double[] Uniform(int dimension, SeededRandom random)
    {
        var x = new double[dimension];
        for (int i = 0; i < dimension; i++) x[i] = random.Uniform();
        return x;
    }

    /// <summary>Rejects settings no optimiser can work with, naming the config field.</summary>
    public static void Validate(int dimension, OptimizerOptions options, int minimumPopulation)
    {
        if (dimension < 1)
            throw new EvoMergeException($"optimizer: the search space has {dimension} dimensions; expected at least 1");
        if (options.PopulationSize is { } population && population < minimumPopulation)
            throw new EvoMergeException($"optimizer.population: {population}; expected at least {minimumPopulation}");
        if (!(options.Sigma0 > 0 && options.Sigma0 <= 1))
            throw new EvoMergeException($"optimizer.sigma0: {options.Sigma0}; expected a step size in (0, 1] (unit-box coordinates)");
        if (options.Initial is { } initial && (initial.Length != dimension || !Contains(initial)))
            throw new EvoMergeException(
                $"optimizer.initial: {initial.Length} values; expected {dimension} values, each in [0, 1]");
    }

    /// <summary>Checks that Tell answers the last Ask.</summary>
    public static void CheckTold<T>(object? pending, int expected, IReadOnlyList<T> told)
    {
        if (pending is null) throw new InvalidOperationException("Tell without a preceding Ask");
        if (told.Count != expected)
            throw new ArgumentException($"Tell got {told.Count} results for the {expected} candidates of the last Ask");
    }

    /// <summary>Candidate indices sorted best (lowest) first; NaN counts as worst; ties keep Ask order (deterministic).</summary>
    public static int[] BestFirst(IReadOnlyList<double> fitness)
    {
        var order = Enumerable.Range(0, fitness.Count).ToArray();
        Array.Sort(order, (a, b) =>
        {
            int c = Worst(fitness[a]).CompareTo(Worst(fitness[b]));
            return c != 0 ? c : a.CompareTo(b);
        });
        return order;
    }

    static double Worst(double f) => double.IsNaN(f) ? double.PositiveInfinity : f;
}
