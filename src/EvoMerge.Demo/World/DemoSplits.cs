namespace EvoMerge.Demo;

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
    public const int DevSize = 300, TestSize = 200;

    public static DemoSplits Create(int seed)
    {
        var rng = new Random(seed);
        var taken = new HashSet<string>();
        // 100 dev problems first and the rest after the test splits: the dev split grew from 100 to 300 (100 problems
        // let the search fit their noise) without changing any test split.
        var jaDev = Draw(rng, taken, 100);
        var jaTest = Draw(rng, taken, TestSize);
        var enTest = Draw(rng, taken, TestSize);
        var qaTest = Draw(rng, taken, TestSize).Select(p => (p, (QaKind)rng.Next(3))).ToList();
        jaDev.AddRange(Draw(rng, taken, DevSize - 100));
        return new DemoSplits(jaDev, jaTest, enTest, qaTest);
    }

    public IEnumerable<WordProblem> AllProblems() =>
        JaMathDev.Concat(JaMathTest).Concat(EnMathTest).Concat(JaQaTest.Select(q => q.Problem));

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
