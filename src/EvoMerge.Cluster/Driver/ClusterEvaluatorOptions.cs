namespace EvoMerge.Cluster.Driver;

/// <param name="WaitForWorkers">How long work may wait with no usable worker before the run fails.</param>
/// <param name="MembershipPoll">How often the driver reads membership (new workers, dead ones).</param>
/// <param name="MaxAttempts">Sends of one work item lost to failing workers before the run fails.</param>
public sealed record ClusterEvaluatorOptions(TimeSpan WaitForWorkers, TimeSpan MembershipPoll, int MaxAttempts = 10)
{
    public static ClusterEvaluatorOptions Default { get; } = new(TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(1));
}
