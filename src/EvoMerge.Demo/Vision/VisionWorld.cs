namespace EvoMerge.Demo.Vision;

/// <summary>What a training example of V shows after the image: a caption, or an English question and its answer.</summary>
public sealed record VisionExample(Scene Scene, string Prompt, string Target);

/// <summary>
/// The miniature VLM world: pictures of the LLM demo's things in its colours, the held-out splits, and seeded
/// streams of English training examples that never show a held-out scene.
/// </summary>
public sealed class VisionWorld
{
    /// <summary>The seed of the evaluation splits: fixed, so V trained from any seed is scored on the same items.</summary>
    public const int SplitSeed = 20240322;

    public VisionSplits Splits { get; }
    readonly HashSet<string> heldOut;

    public VisionWorld(int splitSeed = SplitSeed)
    {
        Splits = VisionSplits.Create(splitSeed);
        heldOut = Splits.All.Select(s => s.Key).ToHashSet();
    }

    public bool IsHeldOut(Scene scene) => heldOut.Contains(scene.Key);

    /// <summary>An endless seeded stream of training scenes (held-out keys skipped).</summary>
    public IEnumerable<Scene> TrainingScenes(int seed)
    {
        var rng = new Random(seed);
        while (true)
        {
            var s = Scene.Random(rng);
            if (!heldOut.Contains(s.Key)) yield return s;
        }
    }

    /// <summary>LLaVA's stage-1 data: the image, then its caption.</summary>
    public IEnumerable<VisionExample> Captions(int seed) =>
        TrainingScenes(seed).Select(s => new VisionExample(s, "<image>", SceneQuestions.Caption(s)));

    /// <summary>LLaVA's stage-2 data: English questions of every kind (a caption one time in five).</summary>
    public IEnumerable<VisionExample> EnglishQa(int seed)
    {
        var rng = new Random(seed ^ 0x5EED);
        foreach (var s in TrainingScenes(seed))
        {
            int pick = rng.Next(5);
            if (pick == 4) { yield return new VisionExample(s, "<image>", SceneQuestions.Caption(s)); continue; }
            var q = SceneQuestions.English(s, (VqaKind)pick);
            yield return new VisionExample(s, SceneQuestions.EnglishTemplate.Replace("{question}", q.Question), q.Answer);
        }
    }
}
