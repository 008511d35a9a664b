namespace EvoMerge.Demo.Diffusion;

/// <summary>
/// The miniature world of the diffusion demo: four of the LLM world's things (apple 個, card 枚, pen 本, flower 本),
/// its six colours, counts 1–3, placed in distinct cells of a 3×3 grid — 72 captions, each with many pictures.
/// The dev and test prompts are fixed, disjoint sets of these captions (every caption is seen in training, in
/// English by the base and L, in Japanese by J, as SDXL has seen "red apple" before any merge).
/// </summary>
public static class PictureWorld
{
    public static readonly IReadOnlyList<Thing> Kinds =
        [.. new[] { "apple", "card", "pen", "flower" }.Select(en => WorldLexicon.Things.Single(t => t.EnOne == en))];

    public const int MaxCount = 3, GridSide = 3;
    public static int KindCount => Kinds.Count;
    public static int ColourCount => WorldLexicon.Colours.Count;
    public static int Combinations => KindCount * ColourCount * MaxCount;

    /// <summary>The seed of the dev/test caption split and of their noise seeds: fixed, so every model is scored on the same prompts.</summary>
    public const int SplitSeed = 20240321;

    public static int CombinationOf(int kind, int colour, int count) => (kind * ColourCount + colour) * MaxCount + count - 1;

    public static Picture Random(Random rng) => Of(rng.Next(Combinations), rng);

    /// <summary>A picture of caption class <paramref name="combination"/> with cells drawn from <paramref name="rng"/>.</summary>
    public static Picture Of(int combination, Random rng)
    {
        int count = combination % MaxCount + 1, colour = combination / MaxCount % ColourCount, kind = combination / MaxCount / ColourCount;
        var cells = Enumerable.Range(0, GridSide * GridSide).OrderBy(_ => rng.Next()).Take(count).Order().ToArray();
        return new Picture(kind, colour, count, cells);
    }

    /// <summary>
    /// The evaluation prompts: <paramref name="perSplit"/> caption classes each for dev and test (disjoint, drawn once
    /// from <see cref="SplitSeed"/>), each with one noise seed, and the picture a real camera would have taken.
    /// </summary>
    public static (IReadOnlyList<EvalPrompt> Dev, IReadOnlyList<EvalPrompt> Test) Splits(int perSplit = 24)
    {
        if (2 * perSplit > Combinations) throw new ArgumentOutOfRangeException(nameof(perSplit));
        var rng = new Random(SplitSeed);
        var order = Enumerable.Range(0, Combinations).OrderBy(_ => rng.Next()).ToArray();
        IReadOnlyList<EvalPrompt> Take(int offset, long seedBase) => order.Skip(offset).Take(perSplit)
            .Select((c, i) => new EvalPrompt(Of(c, rng), seedBase + i)).ToList();
        return (Take(0, 1_000), Take(perSplit, 2_000));
    }
}

/// <summary>One evaluation prompt: the picture its caption describes and the seed of its starting noise.</summary>
public sealed record EvalPrompt(Picture Picture, long Seed);
