using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.Optimizers;

namespace EvoMerge.Evolution.Run;

/// <summary>
/// The loop's view of an optimiser: told scored journal entries. A single-objective optimiser minimises the negated
/// fitness; a multi-objective one (NSGA-II) minimises each task's negated score, one objective per fitness entry.
/// </summary>
abstract class LoopOptimizer
{
    public abstract int PopulationSize { get; }
    public abstract bool IsConverged { get; }
    public abstract IReadOnlyList<double[]> Ask();
    public abstract void Tell(IReadOnlyList<JournalEntry> scored);
    public abstract OptimizerSnapshot Snapshot();
    /// <summary>The non-dominated genomes so far (multi-objective only, else empty).</summary>
    public virtual IReadOnlyList<ParetoPoint> ParetoFront() => [];

    public static LoopOptimizer Create(OptimizerConfig config, int seed, int dimension, double[]? initial, int objectives)
    {
        var options = new OptimizerOptions(seed, config.Population, config.Sigma0, initial, config.Restarts);
        return OptimizerFactory.MultiObjectiveNames.Contains(config.Name)
            ? new Multi(OptimizerFactory.CreateMultiObjective(config.Name, dimension, objectives, options))
            : new Single(OptimizerFactory.Create(config.Name, dimension, options));
    }

    sealed class Single(IOptimizer optimizer) : LoopOptimizer
    {
        public override int PopulationSize => optimizer.PopulationSize;
        public override bool IsConverged => optimizer.IsConverged;
        public override IReadOnlyList<double[]> Ask() => optimizer.Ask();
        public override void Tell(IReadOnlyList<JournalEntry> scored) => optimizer.Tell(scored.Select(e => -e.Fitness).ToList());
        public override OptimizerSnapshot Snapshot() => optimizer.Snapshot();
    }

    sealed class Multi(IMultiObjectiveOptimizer optimizer) : LoopOptimizer
    {
        public override int PopulationSize => optimizer.PopulationSize;
        public override bool IsConverged => false;
        public override IReadOnlyList<double[]> Ask() => optimizer.Ask();
        public override void Tell(IReadOnlyList<JournalEntry> scored) =>
            optimizer.Tell(scored.Select(e => e.Scores.Select(s => -s).ToArray()).ToList());
        public override OptimizerSnapshot Snapshot() => optimizer.Snapshot();
        public override IReadOnlyList<ParetoPoint> ParetoFront() => optimizer.ParetoFront();
    }
}
