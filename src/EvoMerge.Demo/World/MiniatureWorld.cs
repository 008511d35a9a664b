namespace EvoMerge.Demo;

/// <summary>
/// The demo's seeded world: training lines of every kind, and the held-out evaluation splits. Training never sees
/// a held-out problem, in any language or question form.
/// </summary>
public sealed class MiniatureWorld
{
    /// <summary>The seed of the evaluation splits: fixed, so every trained model and every run is scored on the same items.</summary>
    public const int SplitSeed = 20240321;

    public DemoSplits Splits { get; }
    readonly HashSet<string> heldOut;

    public MiniatureWorld()
    {
        Splits = DemoSplits.Create(SplitSeed);
        heldOut = Splits.AllProblems().Select(p => p.Key).ToHashSet();
    }

    /// <summary>An endless, seeded stream of training lines drawn from <paramref name="mix"/>.</summary>
    public IEnumerable<string> Lines(LineMix mix, int seed)
    {
        var rng = new Random(seed);
        while (true) yield return Line(mix.Draw(rng), rng);
    }

    public string Line(LineKind kind, Random rng) => kind switch
    {
        LineKind.EnText => string.Join(" ", Sentences(rng).Select(s => s.En)),
        LineKind.JaText => string.Concat(Sentences(rng).Select(s => s.Ja)),
        LineKind.Parallel => Parallel(WorldSentences.Next(rng)),
        LineKind.ParallelProblem => TrainingProblem(rng).ParallelStatement,
        LineKind.EnMath => Line(TrainingProblem(rng), p => p.EnPrompt, p => p.EnAnswer),
        LineKind.JaMath => Line(TrainingProblem(rng), p => p.JaPrompt, p => p.JaAnswer),
        _ => JaQaLine(TrainingProblem(rng), (QaKind)rng.Next(3)),
    };

    static string Parallel((string En, string Ja) s) => $"EN: {s.En} JA: {s.Ja}";

    static IEnumerable<(string En, string Ja)> Sentences(Random rng)
    {
        int count = rng.Next(2, 4);
        var sentences = new (string, string)[count];
        for (int i = 0; i < count; i++) sentences[i] = WorldSentences.Next(rng);
        return sentences;
    }

    static string Line(WordProblem p, Func<WordProblem, string> prompt, Func<WordProblem, string> answer) => prompt(p) + answer(p);

    static string JaQaLine(WordProblem p, QaKind kind) => p.JaQaPrompt(kind) + p.JaQaAnswer(kind);

    WordProblem TrainingProblem(Random rng)
    {
        while (true)
        {
            var p = WordProblem.Next(rng);
            if (!heldOut.Contains(p.Key)) return p;
        }
    }
}
