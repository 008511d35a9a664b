namespace EvoMerge.Demo;

/// <summary>
/// One evaluation item: the prompt (ending in <c>答え: </c> or <c>A: </c>), the reference answer line, and for math
/// the gold number and the counter a strict Japanese answer must put right after it ("" for English math).
/// </summary>
public sealed record DemoItem(string Prompt, string Answer, int Number, string Counter);

/// <summary>
/// The held-out sets. Japanese math has a dev split (fitness, grid choice) and a test split (reported only), drawn
/// independently and kept disjoint; English math and Japanese QA have test splits to show what a merge keeps.
/// </summary>
public sealed record DemoSplits(
    IReadOnlyList<WordProblem> JaMathDev,
    IReadOnlyList<WordProblem> JaMathTest,
    IReadOnlyList<WordProblem> EnMathTest,
    IReadOnlyList<(WordProblem Problem, QaKind Kind)> JaQaTest)
{
    public const int DevSize = 100, TestSize = 200;

    public static DemoSplits Create(int seed)
    {
        var rng = new Random(seed);
        var taken = new HashSet<string>();
        var jaDev = Draw(rng, taken, DevSize);
        var jaTest = Draw(rng, taken, TestSize);
        var enTest = Draw(rng, taken, TestSize);
        var qaTest = Draw(rng, taken, TestSize).Select(p => (p, (QaKind)rng.Next(3))).ToList();
        return new DemoSplits(jaDev, jaTest, enTest, qaTest);
    }

    public IEnumerable<WordProblem> AllProblems() =>
        JaMathDev.Concat(JaMathTest).Concat(EnMathTest).Concat(JaQaTest.Select(q => q.Problem));

    public static IReadOnlyList<DemoItem> JaMath(IEnumerable<WordProblem> problems) =>
        problems.Select(p => new DemoItem(p.JaPrompt, p.JaAnswer, p.Sum, p.Thing.Counter)).ToList();

    public static IReadOnlyList<DemoItem> EnMath(IEnumerable<WordProblem> problems) =>
        problems.Select(p => new DemoItem(p.EnPrompt, p.EnAnswer, p.Sum, "")).ToList();

    public static IReadOnlyList<DemoItem> JaQa(IEnumerable<(WordProblem Problem, QaKind Kind)> questions) =>
        questions.Select(q => new DemoItem(q.Problem.JaQaPrompt(q.Kind), q.Problem.JaQaAnswer(q.Kind),
            q.Kind == QaKind.FirstNumber ? q.Problem.First : 0, q.Problem.Thing.Counter)).ToList();

    static List<WordProblem> Draw(Random rng, HashSet<string> taken, int count)
    {
        var drawn = new List<WordProblem>(count);
        while (drawn.Count < count)
        {
            var p = WordProblem.Next(rng);
            if (taken.Add(p.Key)) drawn.Add(p);
        }
        return drawn;
    }
}
