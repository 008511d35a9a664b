using System.Text.Json;
using System.Text.Json.Nodes;
using EvoMerge.IO;

namespace EvoMerge.Torch.Diffusion.Model;

/// <summary>Reads the fields of a diffusers/transformers config file, each bad value a one-line error naming file and field.</summary>
sealed class ConfigJson(JsonObject json, string path)
{
    public string Path { get; } = path;

    public static ConfigJson Load(string path)
    {
        var bytes = InputFile.ReadAllBytes(path, InputFile.SmallFileBytes, "config");
        JsonNode? node;
        try { node = JsonNode.Parse(bytes, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }); }
        catch (JsonException e) { throw new EvoMergeException($"{path}: not valid JSON ({e.Message})"); }
        return node is JsonObject o ? new ConfigJson(o, path) : throw new EvoMergeException($"{path}: expected a JSON object");
    }

    public int Int(string field, int fallback, int min = 1, int max = 1 << 20)
    {
        if (json[field] is null) return fallback;
        int value = json[field] is JsonValue v && v.TryGetValue(out int i) ? i : throw Bad(field, "an integer");
        return value >= min && value <= max ? value : throw Bad(field, $"an integer in {min}..{max}, got {value}");
    }

    public double Double(string field, double fallback)
    {
        if (json[field] is null) return fallback;
        return json[field] is JsonValue v && v.TryGetValue(out double d) && double.IsFinite(d) ? d : throw Bad(field, "a number");
    }

    public bool Bool(string field, bool fallback)
    {
        if (json[field] is null) return fallback;
        return json[field] is JsonValue v && v.TryGetValue(out bool b) ? b : throw Bad(field, "true or false");
    }

    public string String(string field, string fallback)
    {
        if (json[field] is null) return fallback;
        return json[field] is JsonValue v && v.TryGetValue(out string? s) ? s : throw Bad(field, "a string");
    }

    /// <summary>A list of integers, or one integer repeated <paramref name="count"/> times (diffusers accepts both).</summary>
    public int[] Ints(string field, int[] fallback, int count, int max = 1 << 16)
    {
        if (json[field] is null) return fallback;
        if (json[field] is JsonValue) return Enumerable.Repeat(Int(field, 0, 1, max), count).ToArray();
        if (json[field] is not JsonArray a || a.Count != count) throw Bad(field, $"a list of {count} integers");
        return a.Select(n => n is JsonValue v && v.TryGetValue(out int i) && i >= 1 && i <= max ? i : throw Bad(field, $"integers in 1..{max}")).ToArray();
    }

    public string[] Strings(string field, string[] fallback)
    {
        if (json[field] is null) return fallback;
        if (json[field] is not JsonArray a) throw Bad(field, "a list of strings");
        return a.Select(n => n is JsonValue v && v.TryGetValue(out string? s) ? s : throw Bad(field, "a list of strings")).ToArray();
    }

    public EvoMergeException Bad(string field, string expected) => new($"{Path}: field '{field}' must be {expected}");

    public static void Write(string path, JsonObject json) =>
        File.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
}
