namespace EvoMerge.Evolution.Run;

/// <summary>
/// What a cluster run's driver knows of its workers, reported whenever it changes: the CLI shows it live, and
/// <see cref="ClusterStatusFile"/> keeps it in the run folder (<see cref="RunFolder.WorkersFile"/>) for the dashboard.
/// A single-process run has none.
/// </summary>
/// <param name="Time">When the driver took this status (UTC).</param>
/// <param name="Pending">Work of the current batch not yet sent.</param>
/// <param name="Running">Work being scored now.</param>
/// <param name="Message">The latest notable event (a worker joined, died or was refused), or null.</param>
public sealed record ClusterStatus(DateTime Time, IReadOnlyList<WorkerStatus> Workers, int Pending, int Running, string? Message);

/// <param name="State">busy (scoring), idle, suspect (a call to it failed; it rests), refused (its files differ) or dead.</param>
/// <param name="Results">Results this worker delivered that were used (whole candidates and parts of them).</param>
/// <param name="Candidates">The same in candidates: a part of a candidate cut in m counts 1/m.</param>
/// <param name="PerSecond">Its <paramref name="Candidates"/> per second of the time it has been known.</param>
/// <param name="BusySeconds">Slot-seconds spent on work (lost work included).</param>
/// <param name="KnownSeconds">Seconds since the driver found it, times its slots: the slot time it could have worked.</param>
/// <param name="Work">The work keys its slots are scoring now (empty when idle).</param>
/// <param name="LastSeen">When the driver last heard from it (UTC): a reply, a slot saying it still scores, or membership listing it alive.</param>
public sealed record WorkerStatus(string Name, string Silo, int Slots, string State, int Results, double Candidates, double PerSecond,
    double BusySeconds, double KnownSeconds, IReadOnlyList<string> Work, DateTime LastSeen)
{
    /// <summary>The share of its slot time spent on work.</summary>
    public double Busy => KnownSeconds > 0 ? Math.Min(1, BusySeconds / KnownSeconds) : 0;
}
