namespace EvoMerge.Torch.Demo;

/// <summary>
/// How much searching a demo run does. <see cref="Full"/> is the setting (7×7 grid, CMA-ES λ=12 × 20
/// generations for PS); <see cref="Quick"/> is a one-minute version with the same steps, smaller.
/// </summary>
public sealed record DemoPlan(
    IReadOnlyList<double> GridWeights,
    int PsPopulation,
    int PsGenerations,
    int DfsPopulation,
    int DfsGenerations,
    int DfsRepeats)
{
    public static readonly DemoPlan Full = new([0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5], 12, 20, 12, 10, 3);

    public static readonly DemoPlan Quick = new([0, 0.5, 1.0], 8, 6, 6, 2, 2);
}
