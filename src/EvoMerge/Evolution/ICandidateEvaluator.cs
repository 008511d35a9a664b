using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.Spaces;

namespace EvoMerge.Evolution;

/// <summary>
/// The seam between the search and whatever builds and scores a candidate. In-process (EvoMerge.Torch) it merges a
/// PS recipe straight into a resident model's weights, or runs a DFS layer path, and scores it with the evaluation
/// engine; a remote worker can implement the same contract. Implementations must be deterministic for the same
/// candidate and request (resume relies on it only through the journal, never by re-evaluating).
/// </summary>
public interface ICandidateEvaluator
{
    /// <summary>Decoder layers of a model (sizes the PS groups and DFS slots).</summary>
    int LayerCount(string model);

    /// <summary>Builds the candidate and scores it on every task of the request.</summary>
    CandidateEvaluation Evaluate(Candidate candidate, EvaluationRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Writes the candidate as a model folder at <paramref name="folder"/> (a Hugging Face folder; for a DFS path
    /// a folder the runtime loads, a plain layer-stacked model where every scale is 1). Writes to a temporary name
    /// and renames, so the folder exists only when complete.
    /// </summary>
    void WriteModel(Candidate candidate, string folder, CancellationToken cancellationToken);
}

/// <param name="Tasks">Tasks to score, each on its own data file.</param>
/// <param name="MinibatchSeed">
/// When set, each task with a <see cref="TaskConfig.Minibatch"/> size scores only that many items drawn with this
/// seed; when null, every task scores its whole file (up to <see cref="TaskConfig.Limit"/>).
/// </param>
public sealed record EvaluationRequest(IReadOnlyList<TaskConfig> Tasks, int? MinibatchSeed);

/// <param name="Scores">One score per task of the request, same order; higher is better.</param>
/// <param name="BuildSeconds">Time spent making the candidate runnable (merge into the resident weights, weight swap).</param>
/// <param name="ScoreSeconds">Time spent running the tasks.</param>
public sealed record CandidateEvaluation(IReadOnlyList<double> Scores, double BuildSeconds, double ScoreSeconds);
