namespace EvoMerge.Evaluation.Tasks;

/// <summary>
/// The loop every task shares: the chosen items in batches, each batch scored by the task, every finished item
/// handed to <see cref="EvalRunOptions.OnItem"/>, progress reported and cancellation checked between batches.
/// </summary>
static class BatchLoop
{
    public static List<ItemResult> Run(Subset? subset, int itemCount, EvalRunOptions? run, Func<int[], IReadOnlyList<ItemResult>> scoreBatch)
    {
        run ??= new EvalRunOptions();
        int[] chosen = (subset ?? Subset.All).Resolve(itemCount);
        var results = new List<ItemResult>(chosen.Length);
        foreach (var batch in chosen.Chunk(run.CheckedBatchSize))
        {
            run.Cancellation.ThrowIfCancellationRequested();
            foreach (var item in scoreBatch(batch))
            {
                results.Add(item);
                run.OnItem?.Invoke(item);
            }
            run.Progress?.Report(new EvalProgress(results.Count, chosen.Length));
        }
        return results;
    }

    /// <summary>Guards against a model that answers a batch with the wrong number of results.</summary>
    public static IReadOnlyList<T> Expect<T>(IReadOnlyList<T> answers, int asked, string what) => answers.Count == asked
        ? answers
        : throw new InvalidOperationException($"model returned {answers.Count} {what} for {asked} requests");
}
