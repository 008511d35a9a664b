using EvoMerge.Candidates;

namespace EvoMerge.Cluster.Worker;

/// <summary>What a worker silo runs: how many slots, and how each slot's evaluator is made.</summary>
/// <param name="Name">Shown by the driver next to the worker's progress.</param>
/// <param name="Slots">Evaluation slots (one per device, or per group of CPU threads); each gets its own evaluator.</param>
/// <param name="CreateEvaluator">Makes slot <c>i</c>'s evaluator, once, on its first work (models then stay resident).</param>
/// <param name="Fingerprint">The worker's fingerprint of a path (<see cref="SourceFingerprint.Of"/>; tests substitute files).</param>
/// <param name="BatchSize">Prompts the evaluators score per forward, told to the driver (0: not said).</param>
public sealed record WorkerOptions(string Name, int Slots, Func<int, ICandidateEvaluator> CreateEvaluator, Func<string, string>? Fingerprint = null,
    int BatchSize = 0);
