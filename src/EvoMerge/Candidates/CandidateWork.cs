using EvoMerge.Evaluation;

namespace EvoMerge.Candidates;

/// <summary>
/// One unit of work for an evaluator: what to build and what to score it on, fully resolved.
/// </summary>
/// <param name="Key">Names the work within a batch; the result carries it back (results may come out of order).</param>
public sealed record CandidateWork(string Key, ModelBuild Build, IReadOnlyList<TaskWork> Tasks);

/// <summary>A task to score (data path resolved) and which of its items.</summary>
public sealed record TaskWork(EvalTaskSpec Spec, Subset Subset);
