namespace EvoMerge.Cluster.Driver;

/// <param name="WaitForWorkers">How long work may wait with no usable worker before the run fails.</param>
/// <param name="MembershipPoll">How often the driver reads membership (new workers, dead ones).</param>
/// <param name="MaxAttempts">Sends of one work item lost to failing workers before the run fails.</param>
/// <param name="SplitItems">Cut candidates into parts over their items when slots would otherwise be idle.</param>
/// <param name="ItemAlign">Parts start at multiples of this many items: the workers' batch size (prompts per forward),
/// so that every batch a model sees is the batch a single process would have given it.</param>
public sealed record ClusterEvaluatorOptions(TimeSpan WaitForWorkers, TimeSpan MembershipPoll, int MaxAttempts = 10,
    bool SplitItems = true, int ItemAlign = 16)
{
    public static ClusterEvaluatorOptions Default { get; } = new(TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(1));
}
