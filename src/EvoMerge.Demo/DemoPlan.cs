namespace EvoMerge.Demo;

/// <summary>
/// How much searching a demo run does. <see cref="Full"/> is the setting (7×7 grid, CMA-ES λ=12 × 20
/// generations for PS); <see cref="Quick"/> is a one-minute version with the same steps, smaller, scored on the
/// first <see cref="TestLimit"/> items of each test split.
/// </summary>
/// <param name="PsPopulation">Also the DFS stage's in PS→DFS (the engine runs both stages with one optimiser setting).</param>
public sealed record DemoPlan(
    IReadOnlyList<double> GridWeights,
    int PsPopulation,
    int PsGenerations,
    int DfsPopulation,
    int DfsGenerations,
    int DfsRepeats,
    int? TestLimit)
{
    public static readonly DemoPlan Full = new([0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5], 12, 20, 12, 10, 3, null);

    public static readonly DemoPlan Quick = new([0, 0.5, 1.0], 6, 4, 4, 2, 2, 100);
}
