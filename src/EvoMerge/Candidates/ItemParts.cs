using EvoMerge.Evaluation;
using EvoMerge.Evaluation.Tasks;

namespace EvoMerge.Candidates;

/// <summary>
/// Cuts one candidate's work into parts that score disjoint runs of its items (so that several evaluators can share
/// it), and puts the parts' results back together into the result the whole would have had, bit for bit: the items
/// come back in their order, accuracy is recounted as solved / scored, perplexity is recomputed from each window's
/// log-likelihood and token count summed in item order (<see cref="PerplexityTask.TokenPerplexity"/>). Every part
/// starts at a multiple of the evaluator's batch size, so each batch of prompts the model sees is the batch it
/// would have seen scoring the whole (a batch's padding can change the last bits of a result).
/// </summary>
public static class ItemParts
{
    /// <summary>
    /// Whether a task's score can be put together from parts: accuracy tasks and perplexity. Not vqa (its score is a
    /// mean of graded item scores that <see cref="TaskOutcome"/> does not carry) nor kinds added later until they say how.
    /// </summary>
    public static bool CanSplit(TaskKind kind) =>
        kind is TaskKind.Mgsm or TaskKind.Gsm8k or TaskKind.Choice or TaskKind.Jsonl or TaskKind.Perplexity;

    /// <summary>The most parts a work can be cut into: every part must hold at least one batch of some task's items.</summary>
    /// <param name="items">Per task of the work, its items in scoring order (its subset resolved).</param>
    public static int MaxParts(IReadOnlyList<int[]> items, int align) =>
        items.Count == 0 ? 1 : Math.Max(1, items.Max(i => Chunks(i.Length, align)));

    /// <summary>
    /// The work as <paramref name="parts"/> pieces (keys <c>{key}#{j}</c>): piece j scores, of every task, the j-th
    /// of <paramref name="parts"/> nearly equal runs of whole batches of its items (possibly none of a small task's).
    /// </summary>
    public static IReadOnlyList<CandidateWork> Split(CandidateWork work, IReadOnlyList<int[]> items, int parts, int align)
    {
        if (items.Count != work.Tasks.Count) throw new ArgumentException($"{items.Count} item lists for {work.Tasks.Count} tasks", nameof(items));
        if (align < 1) throw new ArgumentOutOfRangeException(nameof(align), align, "batch size must be at least 1");
        if (parts < 1 || parts > MaxParts(items, align))
            throw new ArgumentOutOfRangeException(nameof(parts), parts, $"between 1 and {MaxParts(items, align)} parts");
        return Enumerable.Range(0, parts).Select(j => work with
        {
            Key = $"{work.Key}#{j}",
            Tasks = work.Tasks.Select((task, t) =>
            {
                int chunks = Chunks(items[t].Length, align);
                int from = Math.Min(items[t].Length, (int)((long)j * chunks / parts) * align);
                int to = Math.Min(items[t].Length, (int)((long)(j + 1) * chunks / parts) * align);
                return task with { Subset = Subset.Indices(items[t][from..to]) };
            }).ToList(),
        }).ToList();
    }

    /// <summary>
    /// The whole's result from its parts' results (in part order): per task the items and item scores concatenated and
    /// the score recomputed; build and score seconds summed (the compute the candidate cost, spread over evaluators).
    /// </summary>
    public static CandidateResult Combine(string key, IReadOnlyList<CandidateResult> parts)
    {
        if (parts.Count == 0) throw new ArgumentException("no parts to combine", nameof(parts));
        int tasks = parts[0].Tasks.Count;
        if (parts.Any(p => p.Tasks.Count != tasks)) throw new InvalidOperationException($"parts of work '{key}' report different numbers of tasks");
        var outcomes = Enumerable.Range(0, tasks).Select(t => Combine(key, parts.Select(p => p.Tasks[t]).ToList())).ToList();
        return new CandidateResult(key, outcomes, parts.Sum(p => p.BuildSeconds), parts.Sum(p => p.ScoreSeconds));
    }

    static TaskOutcome Combine(string key, IReadOnlyList<TaskOutcome> parts)
    {
        string? metric = parts[0].Metric;
        if (parts.Any(p => p.Metric != metric)) throw new InvalidOperationException($"parts of work '{key}' report different metrics");
        int[] items = parts.SelectMany(p => p.Items).ToArray();
        double[] scores = parts.SelectMany(p => p.ItemScores).ToArray();
        switch (metric)
        {
            case "acc":
                // Item scores of an accuracy task are 1 (solved) or 0: the task's own count, over all items.
                return new TaskOutcome(Proportion.Count(scores, s => s == 1).Value, items, scores, metric);
            case "perplexity" when parts.All(p => p.ItemLogLikelihoods is not null && p.ItemTokens is not null):
                double[] lls = parts.SelectMany(p => p.ItemLogLikelihoods!).ToArray();
                int[] tokens = parts.SelectMany(p => p.ItemTokens!).ToArray();
                return new TaskOutcome(-PerplexityTask.TokenPerplexity(lls, tokens), items, scores, metric, lls, tokens);
            default:
                throw new InvalidOperationException($"work '{key}': a task scored by '{metric ?? "an unnamed metric"}' cannot be put together from parts");
        }
    }

    static int Chunks(int items, int align) => (items + align - 1) / align;
}
