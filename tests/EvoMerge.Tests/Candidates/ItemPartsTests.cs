using EvoMerge.Candidates;
using EvoMerge.Evaluation;
using EvoMerge.Evaluation.Answers;
using EvoMerge.Evaluation.Tasks;
using EvoMerge.Tests.Evaluation;

namespace EvoMerge.Tests.Candidates;

/// <summary>
/// A candidate's work cut into parts over its items, and the parts' results put back together: the slices are
/// checked against hand-cut batches, the recombined scores against hand arithmetic, and against the same tasks
/// scored whole, bit for bit.
/// </summary>
public class ItemPartsTests
{
    static readonly int[] Sampled = [1, 3, 4, 6, 7, 8, 10, 12, 15, 19];

    static CandidateWork Work(params int[][] items) => new("c7", new SourceBuild("/m/a"),
        items.Select((_, t) => new TaskWork(new EvalTaskSpec(TaskKind.Jsonl, $"/d/{t}.jsonl"), Subset.Sample(10, t))).ToList());

    static int[][] Slices(CandidateWork part) => part.Tasks.Select(t => t.Subset.Resolve(100)).ToArray();

    [Fact]
    public void Parts_are_runs_of_whole_batches_in_item_order()
    {
        int[] small = [2, 5, 9, 11];
        var work = Work(Sampled, small);
        // Batches of 3: the 10 sampled items are 4 batches, the 4 small-task items 2.
        Assert.Equal(4, ItemParts.MaxParts([Sampled, small], 3));

        var two = ItemParts.Split(work, [Sampled, small], 2, 3);
        Assert.Equal(["c7#0", "c7#1"], two.Select(p => p.Key));
        Assert.Equal([[1, 3, 4, 6, 7, 8], [2, 5, 9]], Slices(two[0]));
        Assert.Equal([[10, 12, 15, 19], [11]], Slices(two[1]));

        var four = ItemParts.Split(work, [Sampled, small], 4, 3);
        Assert.Equal([[1, 3, 4], []], Slices(four[0]));
        Assert.Equal([[6, 7, 8], [2, 5, 9]], Slices(four[1]));
        Assert.Equal([[10, 12, 15], []], Slices(four[2]));
        Assert.Equal([[19], [11]], Slices(four[3]));
        Assert.All(four, p => Assert.Equal(work.Build, p.Build));
        Assert.Throws<ArgumentOutOfRangeException>(() => ItemParts.Split(work, [Sampled, small], 5, 3));
    }

    [Fact]
    public void Accuracy_and_perplexity_are_recounted_over_all_items()
    {
        CandidateResult Part(int[] items, double[] correct, double[] lls, int[] tokens) => new("x",
        [
            new TaskOutcome(-1, items, correct, "acc"),
            new TaskOutcome(-1, items, lls.Zip(tokens, (l, n) => l / n).ToArray(), "perplexity", lls, tokens),
        ], 0.5, 2);

        var whole = ItemParts.Combine("c7", [Part([0, 2, 5], [1, 0, 1], [-2, -3.5, -0.25], [2, 3, 1]), Part([6, 9], [0, 1], [-1.25, -1], [1, 2])]);

        Assert.Equal("c7", whole.Key);
        Assert.Equal(3.0 / 5, whole.Tasks[0].Score);
        Assert.Equal([0, 2, 5, 6, 9], whole.Tasks[0].Items);
        Assert.Equal([1, 0, 1, 0, 1], whole.Tasks[0].ItemScores);
        // Σ log p = −8, Σ tokens = 9: perplexity e^(8/9), negated (lower is better).
        Assert.Equal(-Math.Exp(8.0 / 9), whole.Tasks[1].Score, 15);
        Assert.Equal([-1, -3.5 / 3, -0.25, -1.25, -0.5], whole.Tasks[1].ItemScores);
        Assert.Equal((1.0, 4.0), (whole.BuildSeconds, whole.ScoreSeconds));
    }

    [Fact]
    public void A_score_without_a_rule_is_not_put_together()
    {
        var part = new CandidateResult("x", [new TaskOutcome(41.5, [0], [1], "rouge_l")], 0, 0);
        var e = Assert.Throws<InvalidOperationException>(() => ItemParts.Combine("c7", [part, part]));
        Assert.Contains("rouge_l", e.Message);
        Assert.False(ItemParts.CanSplit(TaskKind.Vqa));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    public void Parts_scored_apart_recombine_to_the_whole_bit_for_bit(int parts)
    {
        // 40 items and 40 perplexity windows, batches of 2; the model's log-likelihoods are irrational-looking
        // numbers, so any other order of summation would show in the last bits.
        var items = Enumerable.Range(0, 40).Select(i => new TaskItem(new Dictionary<string, string> { ["q"] = $"q{i}" }, $"{i % 3}", $"line {i}")).ToList();
        var generation = new GenerationTask("g", items, new ExactMatcher(), new GenerationSettings(new PromptTemplate("{q}")));
        var perplexity = new PerplexityTask("p", string.Concat(Enumerable.Range(0, 40).Select(i => $"word{i} ")), 8, 8);
        var model = new ScriptedModel(prompt => $"{prompt.Length * 7 % 3}",
            r => new ContinuationScore(-Math.Sqrt(r.Continuation.Length + r.Context.Length * 0.37) - 1 / 3.0, r.Continuation.Length / 2 + 1, false));
        var subsets = new[] { Subset.Sample(31, 4), Subset.All };
        IEvalTask[] tasks = [generation, perplexity];
        CandidateResult Score(string key, IReadOnlyList<Subset> chosen) =>
            new(key, tasks.Select((t, k) => TaskOutcome.Of(t.Evaluate(model, chosen[k], new EvalRunOptions(2)))).ToList(), 0, 0);

        var whole = Score("w", subsets);
        var work = new CandidateWork("w", new SourceBuild("/m/a"), subsets.Select(s => new TaskWork(new EvalTaskSpec(TaskKind.Jsonl, "/d"), s)).ToList());
        var resolved = tasks.Select((t, k) => subsets[k].Resolve(t.Count)).ToArray();
        var pieces = ItemParts.Split(work, resolved, parts, 2);
        var combined = ItemParts.Combine("w", pieces.Select(p => Score(p.Key, p.Tasks.Select(t => t.Subset).ToList())).ToList());

        Assert.Equal(whole.Scores, combined.Scores);
        for (int k = 0; k < tasks.Length; k++)
        {
            Assert.Equal(whole.Tasks[k].Items, combined.Tasks[k].Items);
            Assert.Equal(whole.Tasks[k].ItemScores, combined.Tasks[k].ItemScores);
        }
        Assert.InRange(whole.Scores[0], 0.1, 0.9);   // some right, some wrong
        // Summing each part first, then the parts, gives another number: the recombination kept the item order.
        var lls = whole.Tasks[1].ItemLogLikelihoods!;
        double perPart = pieces.Select(p => p.Tasks[1].Subset.Resolve(perplexity.Count).Sum(i => lls[i])).Sum();
        Assert.NotEqual(-Math.Exp(-perPart / whole.Tasks[1].ItemTokens!.Sum()), whole.Scores[1]);
    }
}
