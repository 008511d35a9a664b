using EvoMerge.Evaluation;
using EvoMerge.Evaluation.Answers;
using EvoMerge.Evaluation.Tasks;

namespace EvoMerge.Tests.Evaluation;

public class GenerationTaskTests
{
    static TaskItem Item(string question, string gold, int line) =>
        new(new Dictionary<string, string> { ["question"] = question }, gold, $"test.tsv line {line}");

    static readonly TaskItem[] Items =
    [
        Item("Q0", "18", 1), Item("Q1", "3", 2), Item("Q2", "2,125", 3), Item("Q3", "7", 4), Item("Q4", "-2", 5),
    ];

    static GenerationTask Task(LanguageGate? gate = null, IReadOnlyList<Exemplar>? exemplars = null) =>
        new("math", Items, new NumberMatcher(), new GenerationSettings(
            new PromptTemplate(PromptTemplate.SakanaJapaneseMath), exemplars, MaxNewTokens: 64, StopStrings: ["### 指示:"], LanguageGate: gate));

    static readonly ScriptedModel Model = ScriptedModel.Replying(
        ("Q0", "9×2=18ドルなので、答えは18です。"),      // right
        ("Q1", "The answer is 3."),                        // right, in English
        ("Q2", "合計は2,125ドルです。"),                    // right, comma in reply and gold
        ("Q3", "答えは8です。"),                            // wrong
        ("Q4", "わかりません。"));                          // no number

    [Fact]
    public void ScoresEveryItemAndReportsAccuracyWithItsInterval()
    {
        var result = Task().Evaluate(Model);
        Assert.Equal([true, true, true, false, false], result.Items.Select(i => i.Correct));
        Assert.Equal(["18", "3", "2,125", "8", null], result.Items.Select(i => i.Extracted));
        var acc = result.Primary;
        Assert.Equal("acc", acc.Name);
        Assert.Equal(0.6, acc.Value, 12);
        // Wilson 95% for 3/5 by hand (z² = 3.841459): centre = (0.6 + z²/10)/(1 + z²/5) = 0.984146/1.768292 = 0.556552,
        // half = z/(1 + z²/5)·sqrt(0.24/5 + z²/100) = 1.108393 · 0.293963 = 0.325826 → [0.2307, 0.8824].
        var (lower, upper) = new Proportion(3, 5).WilsonInterval();
        Assert.Equal(lower, acc.Lower);
        Assert.Equal(upper, acc.Upper);
        Assert.Equal(0.2307, lower, 4);
        Assert.Equal(0.8824, upper, 4);
    }

    [Fact]
    public void ItemsCarryPromptOutputAndGold()
    {
        var item = Task().Evaluate(Model, Subset.Indices([2])).Items.Single();
        Assert.Equal(2, item.Index);
        Assert.EndsWith("### 指示:\nQ2\n\n### 応答:", item.Prompt);
        Assert.Equal("合計は2,125ドルです。", item.Output);
        Assert.Equal("2,125", item.Gold);
    }

    [Fact]
    public void BatchesSubsetsProgressAndStreamingFollowTheRunOptions()
    {
        var model = ScriptedModel.Replying(Items.Select(i => (i.Fields["question"], "0")).ToArray());
        var progress = new List<EvalProgress>();
        var streamed = new List<int>();
        var run = new EvalRunOptions(BatchSize: 2, Progress: new SyncProgress(progress.Add), OnItem: i => streamed.Add(i.Index));
        var result = Task().Evaluate(model, Subset.Indices([4, 0, 3]), run);
        Assert.Equal([2, 1], model.GenerateBatchSizes);
        Assert.Equal([4, 0, 3], streamed);
        Assert.Equal([4, 0, 3], result.Items.Select(i => i.Index));
        Assert.Equal([new EvalProgress(2, 3), new EvalProgress(3, 3)], progress);
        Assert.All(model.Options, o => { Assert.Equal(64, o.MaxNewTokens); Assert.Equal(0f, o.Temperature); Assert.Equal(["### 指示:"], o.StopStrings!); });
    }

    [Fact]
    public void LanguageGateCountsOnlyRepliesInTheLanguage()
    {
        var result = Task(new LanguageGate("ja")).Evaluate(Model);
        // Q1 was right but in English: correct answer, failed gate.
        Assert.Equal([true, false, true, false, false], result.Items.Select(i => i.Correct));
        Assert.Equal([true, true, true, false, false], result.Items.Select(i => i.AnswerCorrect == true));
        Assert.False(result.Items[1].InLanguage);
        Assert.Equal("en", result.Items[1].Language);
        Assert.Equal(0.4, result["acc"].Value, 12);
        Assert.Equal(0.6, result["acc_any_language"].Value, 12);
        Assert.Equal(0.8, result["in_ja"].Value, 12);
    }

    [Fact]
    public void ExemplarsPrecedeTheQuestionRenderedWithTheSameTemplate()
    {
        var shots = new[] { new Exemplar(new Dictionary<string, string> { ["question"] = "問題：E1" }, "ステップごとの答え：答えは1です。", "ex line 1") };
        var task = Task(exemplars: shots);
        string header = PromptTemplate.SakanaJapaneseMath[..PromptTemplate.SakanaJapaneseMath.IndexOf("{question}", StringComparison.Ordinal)];
        Assert.Equal(header + "問題：E1\n\n### 応答:\nステップごとの答え：答えは1です。\n\n" + header + "Q0\n\n### 応答:", task.PromptOf(0));
    }

    [Fact]
    public void BadGoldOrMissingFieldFailsWhenTheTaskIsBuilt()
    {
        var e = Assert.Throws<EvoMergeException>(() => new GenerationTask("t", [Item("Q", "abc", 9)], new NumberMatcher(),
            new GenerationSettings(new PromptTemplate("{question}"))));
        Assert.Contains("test.tsv line 9", e.Message);
        e = Assert.Throws<EvoMergeException>(() => new GenerationTask("t", [Item("Q", "1", 4)], new NumberMatcher(),
            new GenerationSettings(new PromptTemplate("{problem}"))));
        Assert.Contains("'problem'", e.Message);
    }

    /// <summary>Progress&lt;T&gt; posts to the thread pool; tests need the reports in order, at once.</summary>
    sealed class SyncProgress(Action<EvalProgress> report) : IProgress<EvalProgress>
    {
        public void Report(EvalProgress value) => report(value);
    }
}
