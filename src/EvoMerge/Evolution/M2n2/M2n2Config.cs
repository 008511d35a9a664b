namespace EvoMerge.Evolution.M2n2;

/// <summary>
/// M2N2's settings (<c>optimizer:</c> keys of evolve.yml when <c>name: m2n2</c>). Defaults are the reference code's
/// (SakanaAI/natural_niches, main.py) for models that start pre-trained: archive 20, α = 1, attraction on, split point
/// uniform over the parameters, no mutation (the reference mutates only when it trains from scratch).
/// </summary>
public sealed record M2n2Config
{
    /// <summary>Archive slots (<c>archive_size</c>, the reference's pop_size).</summary>
    public int ArchiveSize { get; init; } = 20;
    /// <summary>Fitness-sharing exponent (<c>alpha</c>): 1 shares each item fully, 0 is a plain GA.</summary>
    public double Alpha { get; init; } = 1;
    /// <summary>Draw parent 2 by attraction to parent 1 (<c>attraction</c>, the reference's matchmaker); off: both by fitness.</summary>
    public bool Attraction { get; init; } = true;
    public SplitPoints SplitPoints { get; init; } = SplitPoints.Parameter;
    /// <summary>Gaussian noise on every segment's coefficients after crossover (<c>mutation</c>).</summary>
    public bool Mutation { get; init; }
    /// <summary>Standard deviation of that noise (<c>mutation_std</c>; the reference's 0.01, there on weights).</summary>
    public double MutationStd { get; init; } = 0.01;
    /// <summary>Children evaluated at once (<c>in_flight</c>); 1 is the reference's strictly sequential loop.</summary>
    public int InFlight { get; init; } = 1;
}

/// <summary>Where a child's split point falls (<c>split_points</c>).</summary>
public enum SplitPoints
{
    /// <summary>Uniform over the flattened parameters, as the reference code (a big tensor is cut more often).</summary>
    Parameter,
    /// <summary>Uniform over tensor boundaries: whole tensors come from one side.</summary>
    Tensor,
    /// <summary>No split point: a plain slerp with factor w (the reference's --no_splitpoint).</summary>
    None,
}
