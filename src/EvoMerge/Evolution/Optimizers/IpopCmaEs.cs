namespace EvoMerge.Evolution.Optimizers;

/// <summary>
/// IPOP-CMA-ES (Auger &amp; Hansen 2005): when a CMA-ES run meets its stop criteria it is restarted from a uniformly
/// random point of the box with σ₀ and twice the population, up to <see cref="MaxRestarts"/> times. Larger
/// populations see the global structure of multimodal fitness landscapes that small ones get trapped in.
/// </summary>
public sealed class IpopCmaEs : IOptimizer
{
    /// <summary>Population grows at most 2⁹ = 512-fold, as in Auger &amp; Hansen's experiments.</summary>
    public const int MaxRestarts = 9;

    readonly OptimizerOptions _options;
    readonly bool _diagonal;
    readonly SeededRandom _random;
    CmaEs _run;
    int _generationsOfEarlierRuns;

    public IpopCmaEs(int dimension, OptimizerOptions options, bool diagonal = false)
    {
        _options = options;
        _diagonal = diagonal;
        _run = new CmaEs(dimension, options, diagonal);
        // Restart points and seeds come from a stream of their own, not from the first run's sampling stream.
        _random = new SeededRandom(~options.Seed);
    }

    public int Dimension => _run.Dimension;
    public int PopulationSize => _run.PopulationSize;
    public int Generation => _generationsOfEarlierRuns + _run.Generation;
    public bool IsConverged => _run.IsConverged && Restarts == MaxRestarts;

    /// <summary>Restarts so far.</summary>
    public int Restarts { get; private set; }

    public IReadOnlyList<double[]> Ask() => _run.Ask();

    public void Tell(IReadOnlyList<double> fitness)
    {
        _run.Tell(fitness);
        if (!_run.IsConverged || Restarts == MaxRestarts) return;
        Restarts++;
        _generationsOfEarlierRuns += _run.Generation;
        _run = new CmaEs(Dimension, _options with
        {
            Seed = _random.NextSeed(),
            PopulationSize = 2 * _run.PopulationSize,
            Initial = UnitBox.Uniform(Dimension, _random),
        }, _diagonal);
    }

    public OptimizerSnapshot Snapshot()
    {
        var run = _run.Snapshot();
        var state = new Dictionary<string, object>(run.State) { ["restarts"] = Restarts, ["run_generation"] = run.Generation };
        return new OptimizerSnapshot(run.Name, Generation, state);
    }
}
