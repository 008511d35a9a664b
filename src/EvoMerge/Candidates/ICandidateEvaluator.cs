namespace EvoMerge.Candidates;

/// <summary>
/// The seam between the search and whatever builds and scores candidates. The search resolves each candidate into
/// a <see cref="CandidateWork"/> (what to build, what to score) before it crosses; the evaluator builds, scores and
/// returns each result once, calling nothing back. In-process (EvoMerge.Torch) it merges into a resident model's
/// weights or swaps a layer path; a cluster evaluator sends the same work to remote workers. Implementations must
/// be deterministic for the same work (resume relies on it only through the journal, never by re-evaluating).
/// </summary>
public interface ICandidateEvaluator
{
    /// <summary>Decoder layers of a model (sizes the PS groups and DFS slots).</summary>
    int LayerCount(string model);

    /// <summary>
    /// Builds and scores every work item of <paramref name="batch"/> (a generation, or any part of one), yielding
    /// each result as it completes, in any order; each carries its work's key.
    /// </summary>
    IEnumerable<CandidateResult> Evaluate(IReadOnlyList<CandidateWork> batch, CancellationToken cancellationToken);

    /// <summary>
    /// Writes the build as a model folder at <paramref name="folder"/> (a Hugging Face folder; for a layer path a
    /// plain layer-stacked model). Writes to a temporary name and renames, so the folder exists only when complete.
    /// </summary>
    void WriteModel(ModelBuild build, string folder, CancellationToken cancellationToken);
}

public static class CandidateEvaluatorExtensions
{
    /// <summary>Builds and scores one candidate.</summary>
    public static CandidateResult EvaluateOne(this ICandidateEvaluator evaluator, ModelBuild build, IReadOnlyList<TaskWork> tasks,
        CancellationToken cancellationToken = default) =>
        evaluator.Evaluate([new CandidateWork("0", build, tasks)], cancellationToken).Single();
}
