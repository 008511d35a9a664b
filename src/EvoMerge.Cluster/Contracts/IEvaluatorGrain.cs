using Orleans.Concurrency;

namespace EvoMerge.Cluster.Contracts;

/// <summary>
/// One evaluation slot of a worker silo (a device, or a group of CPU threads). Its key is
/// <c>{silo}/{slot}</c>; the driver places it on that silo with a placement hint, so a slot never moves.
/// One call at a time: a slot scores one candidate after another.
/// </summary>
public interface IEvaluatorGrain : IGrainWithStringKey
{
    /// <summary>The worker's name, slot count and threads per slot (asked of slot 0 when a silo joins).</summary>
    Task<WorkerInfo> Describe();

    /// <summary>Builds and scores one work order. Never throws for a failed evaluation: see <see cref="WorkReply"/>.</summary>
    Task<WorkReply> Evaluate(WorkOrder order);

    /// <summary>
    /// Whether this slot is scoring the work now (<c>running</c>), has its result (<c>done</c>), or has never seen
    /// it (<c>unknown</c>). Answered while an evaluation runs: the driver asks when a call has been quiet a while, to
    /// find calls lost with a dead gateway (which would otherwise wait forever).
    /// </summary>
    [AlwaysInterleave]
    Task<string> Track(string workKey);
}

/// <param name="Name">The worker's name as its operator gave it (host name and process id by default).</param>
/// <param name="Slots">Evaluation slots on this silo.</param>
/// <param name="BatchSize">Prompts its evaluators score per forward (0: not said); the driver cuts parts at multiples of it.</param>
[GenerateSerializer, Immutable]
public sealed record WorkerInfo([property: Id(0)] string Name, [property: Id(1)] int Slots, [property: Id(2)] int BatchSize = 0);

/// <summary>Resolved work as it crosses the wire: never weights, only what to build and score.</summary>
/// <param name="WorkKey">A hash of the work's content: the same work always has the same key, so a result is idempotent by it.</param>
/// <param name="WorkJson">The <c>CandidateWork</c> as JSON (<see cref="WorkWire"/>).</param>
/// <param name="Fingerprints">Every source model and data file the work reads, with the driver's content fingerprint of it.</param>
[GenerateSerializer, Immutable]
public sealed record WorkOrder(
    [property: Id(0)] string WorkKey,
    [property: Id(1)] string WorkJson,
    [property: Id(2)] IReadOnlyDictionary<string, string> Fingerprints);

/// <summary>A slot's answer: the result, or why there is none.</summary>
/// <param name="ResultJson">The <c>CandidateResult</c> as JSON; null when refused or failed.</param>
/// <param name="Refusal">Set when the worker's files differ from the driver's: the work may go to another worker.</param>
/// <param name="Error">Set when the evaluation itself failed (bad data, a bug): the same work fails everywhere.</param>
/// <param name="Evaluated">False when the result came from the slot's cache of finished work (a re-sent order).</param>
[GenerateSerializer, Immutable]
public sealed record WorkReply(
    [property: Id(0)] string WorkKey,
    [property: Id(1)] string? ResultJson,
    [property: Id(2)] string? Refusal,
    [property: Id(3)] string? Error,
    [property: Id(4)] bool Evaluated);
