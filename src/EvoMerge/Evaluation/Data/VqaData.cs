using System.Text.Json;

namespace EvoMerge.Evaluation.Data;

/// <summary>One visual question: the image file (resolved), the question, and every accepted answer.</summary>
public sealed record VqaItem(string ImagePath, IReadOnlyDictionary<string, string> Fields, IReadOnlyList<string> Answers, string Source);

/// <summary>
/// A VQA set as JSONL: <c>image</c> (a path relative to the JSONL file, inside its folder), <c>question</c>, and
/// <c>answers</c> (a string or a list of strings; <c>answer</c> is accepted too). Every image must exist when the
/// set is loaded, so a run does not fail an hour in.
/// </summary>
public static class VqaData
{
    public static IReadOnlyList<VqaItem> Load(string path)
    {
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        return JsonlRecords.Read(path).Select(r =>
        {
            string image = r.Require("image");
            r.Require("question");
            string resolved = Path.GetFullPath(Path.Combine(folder, image));
            if (Path.IsPathRooted(image) || !resolved.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                throw new EvoMergeException($"{r.Source}: field 'image' ('{image}') must be a path inside the data file's folder");
            if (!File.Exists(resolved)) throw new EvoMergeException($"{r.Source}: image '{image}' not found ({resolved})");
            return new VqaItem(resolved, r.Fields, Answers(r), r.Source);
        }).ToArray();
    }

    static IReadOnlyList<string> Answers(JsonlRecords.Record r)
    {
        string field = r.Json.TryGetProperty("answers", out _) ? "answers" : r.Json.TryGetProperty("answer", out _) ? "answer"
            : throw new EvoMergeException($"{r.Source}: missing field 'answers' (has: {string.Join(", ", r.Fields.Keys)})");
        var value = r.Json.GetProperty(field);
        string[] answers = value.ValueKind switch
        {
            JsonValueKind.String => [value.GetString()!],
            JsonValueKind.Array when value.EnumerateArray().All(a => a.ValueKind == JsonValueKind.String) =>
                value.EnumerateArray().Select(a => a.GetString()!).ToArray(),
            _ => [],
        };
        if (answers.Length == 0)
            throw new EvoMergeException($"{r.Source}: field '{field}' must be a string or a non-empty list of strings");
        return answers;
    }
}
