namespace EvoMerge.Demo.Vision;

/// <summary>What a question about a scene asks.</summary>
public enum VqaKind { Colour, Count, Kind, Position }

/// <summary>
/// A question about a scene with its reference answer and key word (what the exact-match column checks: the
/// colour, the count with its counter, or the kind).
/// </summary>
public sealed record SceneQuestion(Scene Scene, VqaKind Kind, string Question, string Answer, string Key);

/// <summary>
/// The questions of the miniature VLM world, in English (what V is trained on) and in the world's Japanese (what the
/// demo scores). Japanese answers follow the world's QA form <c>…です。</c> and count with each thing's counter
/// (3匹, 2冊, 1本). Japanese has no position questions: the demo's character vocabulary, fixed by the shipped LLM
/// models, has no 左, 右, 上 or 下, and a row the base never trained could not be merged meaningfully.
/// </summary>
public static class SceneQuestions
{
    /// <summary>The kinds asked in Japanese.</summary>
    public static readonly IReadOnlyList<VqaKind> JapaneseKinds = [VqaKind.Colour, VqaKind.Count, VqaKind.Kind];

    /// <summary>Prompt templates for the vqa task: the world's QA form with the image first.</summary>
    public const string JapaneseTemplate = "<image>問: {question}\n答え: ", EnglishTemplate = "<image>Q: {question}\nA: ";

    public static SceneQuestion English(Scene s, VqaKind kind)
    {
        bool many = s.Count > 1;
        string things = s.Thing.En(s.Count);
        return kind switch
        {
            VqaKind.Colour => new(s, kind, many ? $"What colour are the {things}?" : $"What colour is the {things}?", s.Colour.En, s.Colour.En),
            VqaKind.Count => new(s, kind, $"How many {s.Thing.EnMany} are there?", $"{s.Count}", $"{s.Count}"),
            VqaKind.Kind => new(s, kind, "What is in the picture?", things, things),
            _ => new(s, kind, many ? $"Where are the {things}?" : $"Where is the {things}?", RowWord(s.Row), RowWord(s.Row)),
        };
    }

    public static SceneQuestion Japanese(Scene s, VqaKind kind) => kind switch
    {
        VqaKind.Colour => new(s, kind, $"{s.Thing.Ja}は何色ですか?", $"{s.Colour.Ja}です。", s.Colour.Ja),
        VqaKind.Count => new(s, kind, $"{s.Thing.Ja}は何{s.Thing.Counter}ですか?", $"{s.Count}{s.Thing.Counter}です。", $"{s.Count}{s.Thing.Counter}"),
        VqaKind.Kind => new(s, kind, "何がありますか?", $"{s.Thing.Ja}です。", s.Thing.Ja),
        _ => throw new ArgumentException("the world's Japanese has no position words (see SceneQuestions)", nameof(kind)),
    };

    /// <summary>A one-line English caption with every attribute, e.g. <c>3 red cats at the top.</c> (LLaVA's stage-1 data).</summary>
    public static string Caption(Scene s) => $"{s.Count} {s.Colour.En} {s.Thing.En(s.Count)} {RowPhrase(s.Row)}.";

    public static string RowWord(SceneRow row) => row switch { SceneRow.Top => "top", SceneRow.Middle => "middle", _ => "bottom" };

    static string RowPhrase(SceneRow row) => row switch { SceneRow.Top => "at the top", SceneRow.Middle => "in the middle", _ => "at the bottom" };
}
