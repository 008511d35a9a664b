namespace EvoMerge.Evaluation;

/// <summary>The outcome of one evaluation: every item, and the aggregate metrics (the first one is the headline).</summary>
public sealed record EvalResult(string Task, IReadOnlyList<ItemResult> Items, IReadOnlyList<Metric> Metrics)
{
    /// <summary>The metric a search should maximise or a report should lead with (accuracy; perplexity for LM tasks).</summary>
    public Metric Primary => Metrics[0];

    public Metric this[string name] => Metrics.FirstOrDefault(m => m.Name == name)
        ?? throw new KeyNotFoundException($"task {Task} has no metric '{name}' (has: {string.Join(", ", Metrics.Select(m => m.Name))})");
}

/// <param name="Name">e.g. "acc", "acc_norm", "perplexity".</param>
/// <param name="Lower">Lower end of the 95% confidence interval, where one is defined (Wilson for proportions).</param>
/// <param name="HigherIsBetter">False for perplexity-like metrics, so that a search knows which way to go.</param>
public sealed record Metric(string Name, double Value, double? Lower = null, double? Upper = null, bool HigherIsBetter = true)
{
    /// <summary>A proportion with its Wilson 95% interval.</summary>
    public static Metric Of(string name, Proportion p)
    {
        var (lower, upper) = p.WilsonInterval();
        return new Metric(name, p.Value, lower, upper);
    }
}
