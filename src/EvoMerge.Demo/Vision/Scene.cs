namespace EvoMerge.Demo.Vision;

/// <summary>Where a scene's objects lie: one row of the image's 3×3 grid of cells.</summary>
public enum SceneRow { Top, Middle, Bottom }

/// <summary>
/// One picture of the miniature world: <see cref="Count"/> (1–3) objects of one kind and one colour, side by side
/// in one row of a 3×3 grid, on one of the backgrounds. <see cref="Variant"/> seeds what does not change the
/// answers: which cells of the row are used and a one-pixel jitter of each object.
/// </summary>
public sealed record Scene(Thing Thing, Word Colour, int Count, SceneRow Row, int Background, int Variant)
{
    public const int MaxCount = 3;

    /// <summary>What makes two scenes the same scene for the splits: everything a question can ask about, and the
    /// background. Held-out keys never appear in training, whatever the variant.</summary>
    public string Key => $"{Thing.EnOne}|{Colour.En}|{Count}|{Row}|{Background}";

    /// <summary>Every scene key of the world, in a fixed order (10 things × 6 colours × 3 counts × 3 rows × backgrounds).</summary>
    public static IEnumerable<Scene> AllKinds() =>
        from thing in WorldLexicon.Things
        from colour in WorldLexicon.Colours
        from count in Enumerable.Range(1, MaxCount)
        from row in Enum.GetValues<SceneRow>()
        from background in Enumerable.Range(0, SceneRenderer.Backgrounds.Count)
        select new Scene(thing, colour, count, row, background, 0);

    public static Scene Random(Random rng) => new(
        WorldSentences.Pick(rng, WorldLexicon.Things), WorldSentences.Pick(rng, WorldLexicon.Colours), rng.Next(1, MaxCount + 1),
        (SceneRow)rng.Next(3), rng.Next(SceneRenderer.Backgrounds.Count), rng.Next());
}
