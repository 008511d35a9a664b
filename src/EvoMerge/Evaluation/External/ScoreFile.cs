using System.Text.Json;
using EvoMerge.IO;

namespace EvoMerge.Evaluation.External;

/// <summary>
/// The JSON a fitness command writes to <c>{out}</c>: one object,
/// <code>{"score": 0.71, "items": [1, 0, 0.5, ...]}</code>
/// <c>score</c> (required) is the task's score, higher is better (a scorer that measures a loss reports its
/// negative); <c>items</c> (optional) is each item's own score, item i at position i, which fitness sharing (M2N2)
/// and the journal use. Nothing else may be in the object, so a misspelt key is an error rather than a silent 0.
/// </summary>
public static class ScoreFile
{
    public const string ScoreKey = "score", ItemsKey = "items";

    /// <summary>More than any per-item score list needs; a runaway scorer cannot make the run read gigabytes.</summary>
    const long MaxBytes = InputFile.SmallFileBytes;

    /// <summary>The score and item scores in <paramref name="path"/>; the error says what is wrong with the file, or that there is none.</summary>
    public static (double Score, double[] Items)? Read(string path, out string? error)
    {
        error = null;
        if (!File.Exists(path))
        {
            error = $"wrote no scores to {path}";
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(InputFile.ReadAllBytes(path, MaxBytes, "scores file"));
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Bad($"must hold one JSON object, got {Kind(root)}");
            foreach (var p in root.EnumerateObject())
                if (p.Name is not (ScoreKey or ItemsKey))
                    throw Bad($"unknown key '{p.Name}'{NearestName.Suggest(p.Name, [ScoreKey, ItemsKey])}; valid keys: {ScoreKey}, {ItemsKey}");
            if (!root.TryGetProperty(ScoreKey, out var score)) throw Bad($"has no '{ScoreKey}' (the task's score, higher is better)");
            double total = Number(score, ScoreKey);
            double[] items = root.TryGetProperty(ItemsKey, out var list)
                ? list.ValueKind == JsonValueKind.Array
                    ? list.EnumerateArray().Select((e, i) => Number(e, $"{ItemsKey}[{i}]")).ToArray()
                    : throw Bad($"'{ItemsKey}' must be a list of numbers (item i's score at position i), got {Kind(list)}")
                : [];
            return (total, items);
        }
        catch (JsonException e)
        {
            error = $"wrote malformed JSON to {path}: {e.Message}";
        }
        catch (EvoMergeException e)
        {
            error = e.Message.StartsWith(path, StringComparison.Ordinal) ? e.Message : $"{path}: {e.Message}";
        }
        return null;

        EvoMergeException Bad(string message) => new($"{path}: {message}");
    }

    static double Number(JsonElement e, string key) =>
        e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out double v) && double.IsFinite(v) ? v
        : throw new EvoMergeException($"'{key}' must be a finite number, got {(e.ValueKind == JsonValueKind.Number ? e.GetRawText() : Kind(e))}");

    static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{Truncate(e.GetString()!)}\"",
        JsonValueKind.Array => "a list",
        JsonValueKind.Object => "an object",
        JsonValueKind.Null => "null",
        JsonValueKind.True or JsonValueKind.False => e.GetRawText(),
        _ => e.GetRawText(),
    };

    static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
