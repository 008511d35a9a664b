namespace EvoMerge.Cluster.Driver;

/// <summary>What the driver knows of its workers, reported whenever it changes (the CLI shows it live).</summary>
/// <param name="Pending">Work of the current batch not yet sent.</param>
/// <param name="Running">Work being scored now.</param>
/// <param name="Message">The latest notable event (a worker joined, died or was refused), or null.</param>
public sealed record ClusterStatus(IReadOnlyList<WorkerStatus> Workers, int Pending, int Running, string? Message);

/// <param name="State">joining, idle, busy, dead or refused.</param>
/// <param name="Results">Results this worker delivered that were used (whole candidates and parts of them).</param>
/// <param name="Candidates">The same in candidates: a part of a candidate cut in m counts 1/m.</param>
/// <param name="PerSecond">Its <paramref name="Candidates"/> per second of the time it has been known.</param>
/// <param name="BusySeconds">Slot-seconds spent on work (lost work included).</param>
/// <param name="KnownSeconds">Seconds since the driver found it, times its slots: the slot time it could have worked.</param>
public sealed record WorkerStatus(string Name, string Silo, int Slots, string State, int Results, double Candidates, double PerSecond,
    double BusySeconds, double KnownSeconds);
