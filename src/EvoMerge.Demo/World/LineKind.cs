namespace EvoMerge.Demo;

/// <summary>The kinds of training line the world generates.</summary>
public enum LineKind
{
    /// <summary>2–3 English sentences.</summary>
    EnText,
    /// <summary>2–3 Japanese sentences.</summary>
    JaText,
    /// <summary><c>EN: … JA: …</c>, one sentence in both languages.</summary>
    Parallel,
    /// <summary>A word problem's statement in both languages, without the answer.</summary>
    ParallelProblem,
    /// <summary><c>Q: …\nA: 8</c></summary>
    EnMath,
    /// <summary><c>問: …\n答え: 8個です。</c></summary>
    JaMath,
    /// <summary>A Japanese question about a problem statement that needs no arithmetic.</summary>
    JaQa,
}

/// <summary>A training mixture: the share of each line kind (shares sum to 1).</summary>
public sealed record LineMix(IReadOnlyList<(LineKind Kind, double Share)> Shares)
{
    /// <summary>The base model's pretraining mix. Some math in both languages is what later lets a merge carry English
    /// math over to Japanese; Japanese math is kept small so that the base answers Japanese problems in Japanese but adds
    /// poorly there, and English arithmetic is what a merge has to bring (docs/demo.md, "Experiments").</summary>
    public static readonly LineMix Base = new([
        (LineKind.EnText, 0.30), (LineKind.JaText, 0.30), (LineKind.Parallel, 0.18),
        (LineKind.ParallelProblem, 0.12), (LineKind.EnMath, 0.08), (LineKind.JaMath, 0.02)]);

    /// <summary>Model A, "Japanese": Japanese text and Japanese non-arithmetic QA.</summary>
    public static readonly LineMix Japanese = new([(LineKind.JaText, 0.5), (LineKind.JaQa, 0.5)]);

    /// <summary>Model B, "English math".</summary>
    public static readonly LineMix EnglishMath = new([(LineKind.EnMath, 1.0)]);

    /// <summary>The joint fine-tune baseline: A's data and B's, in the proportion of their steps (500 : 400).</summary>
    public static readonly LineMix Joint = new([(LineKind.JaText, 0.28), (LineKind.JaQa, 0.28), (LineKind.EnMath, 0.44)]);

    public LineKind Draw(Random rng)
    {
        double u = rng.NextDouble(), total = 0;
        foreach (var (kind, share) in Shares)
        {
            total += share;
            if (u < total) return kind;
        }
        return Shares[^1].Kind;
    }
}
