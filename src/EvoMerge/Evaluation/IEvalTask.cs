namespace EvoMerge.Evaluation;

/// <summary>
/// A benchmark: a fixed list of items and a way to score a model on any subset of them. Evolution calls
/// <see cref="Evaluate"/> on minibatches of a dev set hundreds of times, so resolving a subset is cheap and a task
/// never writes to the console: progress and finished items go to the callbacks in <see cref="EvalRunOptions"/>.
/// </summary>
public interface IEvalTask
{
    /// <summary>Short name used in results and file names, e.g. "mgsm".</summary>
    string Name { get; }

    /// <summary>Number of items; subsets index into 0..Count-1.</summary>
    int Count { get; }

    /// <summary>Scores <paramref name="model"/> on the items chosen by <paramref name="subset"/> (all when null).</summary>
    EvalResult Evaluate(ILanguageModel model, Subset? subset = null, EvalRunOptions? run = null);
}

/// <param name="BatchSize">Items handed to the model per call (prompts for generation, items for choice tasks).</param>
/// <param name="Progress">Told after every batch how many of the subset's items are done.</param>
/// <param name="OnItem">Called with each finished item, in subset order (e.g. to stream JSONL).</param>
/// <param name="Cancellation">Checked between batches.</param>
public sealed record EvalRunOptions(
    int BatchSize = 8,
    IProgress<EvalProgress>? Progress = null,
    Action<ItemResult>? OnItem = null,
    CancellationToken Cancellation = default)
{
    internal int CheckedBatchSize => BatchSize >= 1
        ? BatchSize
        : throw new EvoMergeException($"batch size must be at least 1 (got {BatchSize})");
}

public readonly record struct EvalProgress(int Done, int Total);
