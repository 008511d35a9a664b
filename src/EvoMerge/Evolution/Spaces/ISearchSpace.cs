using EvoMerge.Candidates;

namespace EvoMerge.Evolution.Spaces;

/// <summary>
/// Maps genomes (points of the unit box [0,1]^n the optimiser searches) to the builds the evaluator scores.
/// Decoding is a pure function of the genome, so a journal line can always be re-decoded.
/// </summary>
public interface ISearchSpace
{
    /// <summary>"ps" or "dfs": names the stage in the run folder and the journal.</summary>
    string Name { get; }
    int Dimension { get; }
    /// <summary>Where the optimiser starts (null: 0.5 everywhere).</summary>
    double[]? Initial { get; }
    /// <summary>
    /// Known-good points scored on the full dev set before the search (DFS: each source's own layer path). The best
    /// becomes the optimiser's start instead of <see cref="Initial"/> and the stage's first incumbent, so the stage
    /// never reports a candidate worse on dev than the best anchor.
    /// </summary>
    IReadOnlyList<double[]> Anchors => [];
    /// <summary>One label per genome coordinate, e.g. "layers 0-3/model 1/weight" (report and journal readers).</summary>
    IReadOnlyList<string> CoordinateNames { get; }
    ModelBuild Decode(ReadOnlySpan<double> genome);
}
