namespace EvoMerge.Evolution.Optimizers;

/// <summary>Uniform random sampling of the unit box, generation by generation: the baseline every optimiser must beat.</summary>
public sealed class RandomSearch : IOptimizer
{
    readonly SeededRandom _random;
    double[][]? _pending;

    public RandomSearch(int dimension, OptimizerOptions options)
    {
        UnitBox.Validate(dimension, options, minimumPopulation: 1);
        Dimension = dimension;
        PopulationSize = options.PopulationSize ?? CmaParameters.DefaultPopulationSize(dimension);
        _random = new SeededRandom(options.Seed);
    }

    public int Dimension { get; }
    public int PopulationSize { get; }
    public int Generation { get; private set; }
    public bool IsConverged => false;

    public IReadOnlyList<double[]> Ask()
    {
        _pending ??= Enumerable.Range(0, PopulationSize).Select(_ => UnitBox.Uniform(Dimension, _random)).ToArray();
        return _pending.Select(x => (double[])x.Clone()).ToArray();
    }

    public void Tell(IReadOnlyList<double> fitness)
    {
        UnitBox.CheckTold(_pending, PopulationSize, fitness);
        _pending = null;
        Generation++;
    }

    public OptimizerSnapshot Snapshot() =>
        new("random", Generation, new Dictionary<string, object> { ["population_size"] = PopulationSize });
}
