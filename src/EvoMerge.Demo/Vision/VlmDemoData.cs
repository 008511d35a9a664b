using System.Text.Encodings.Web;
using System.Text.Json;

namespace EvoMerge.Demo.Vision;

/// <summary>
/// Writes the VLM world's held-out sets as vqa-task data: PNG pictures under <c>images/</c> and JSONL files with
/// <c>image</c>, <c>question</c>, <c>answers</c>, <c>key</c> (the key word the exact-match column checks) and
/// <c>kind</c> (colour, count, kind, position). Japanese dev (the searches' fitness), Japanese test (the table),
/// English test (what V was trained to do, reported for reference).
/// </summary>
public static class VlmDemoData
{
    public const string JaDevFile = "ja_vqa_dev.jsonl", JaTestFile = "ja_vqa_test.jsonl", EnTestFile = "en_vqa_test.jsonl";

    public static void Write(VisionSplits splits, string folder)
    {
        string images = Path.Combine(folder, "images");
        Directory.CreateDirectory(images);
        var names = new Dictionary<Scene, string>(ReferenceEqualityComparer.Instance);
        foreach (var (split, scenes) in new[] { ("dev", splits.Dev), ("test", splits.Test) })
            for (int i = 0; i < scenes.Count; i++)
            {
                string name = $"images/{split}-{i:D3}.png";
                File.WriteAllBytes(Path.Combine(folder, name), SceneRenderer.RenderPng(scenes[i]));
                names[scenes[i]] = name;
            }
        WriteJsonl(Path.Combine(folder, JaDevFile), VisionSplits.JapaneseQuestions(splits.Dev), names);
        WriteJsonl(Path.Combine(folder, JaTestFile), VisionSplits.JapaneseQuestions(splits.Test), names);
        WriteJsonl(Path.Combine(folder, EnTestFile), VisionSplits.EnglishQuestions(splits.Test), names);
    }

    static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    static void WriteJsonl(string path, IEnumerable<SceneQuestion> questions, IReadOnlyDictionary<Scene, string> images) =>
        File.WriteAllLines(path, questions.Select(q => JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["image"] = images[q.Scene], ["question"] = q.Question, ["answers"] = new[] { q.Answer }, ["key"] = q.Key,
            ["kind"] = q.Kind.ToString().ToLowerInvariant(),
        }, Json)));
}
