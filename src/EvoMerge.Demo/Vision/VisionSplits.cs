namespace EvoMerge.Demo.Vision;

/// <summary>
/// The VLM world's held-out scenes: a dev split (fitness of the searches) and a test split (the table), drawn by a
/// seed from the world's scene keys without replacement, so no key is in both, and no held-out key is ever trained
/// on (<see cref="VisionWorld"/>), whatever the variant, language or question.
/// </summary>
public sealed record VisionSplits(IReadOnlyList<Scene> Dev, IReadOnlyList<Scene> Test)
{
    public const int DevScenes = 80, TestScenes = 100;

    public static VisionSplits Create(int seed)
    {
        var rng = new Random(seed);
        var keys = Scene.AllKinds().ToArray();
        rng.Shuffle(keys);
        Scene WithVariant(Scene s) => s with { Variant = rng.Next() };
        var dev = keys.Take(DevScenes).Select(WithVariant).ToArray();
        var test = keys.Skip(DevScenes).Take(TestScenes).Select(WithVariant).ToArray();
        return new VisionSplits(dev, test);
    }

    public IEnumerable<Scene> All => Dev.Concat(Test);

    /// <summary>The Japanese questions of a split: colour, count and kind for each scene.</summary>
    public static IReadOnlyList<SceneQuestion> JapaneseQuestions(IEnumerable<Scene> scenes) =>
        scenes.SelectMany(s => SceneQuestions.JapaneseKinds.Select(k => SceneQuestions.Japanese(s, k))).ToArray();

    /// <summary>The English questions of a split: all four kinds for each scene.</summary>
    public static IReadOnlyList<SceneQuestion> EnglishQuestions(IEnumerable<Scene> scenes) =>
        scenes.SelectMany(s => Enum.GetValues<VqaKind>().Select(k => SceneQuestions.English(s, k))).ToArray();
}
