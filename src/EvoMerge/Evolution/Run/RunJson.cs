using System.Text.Json;
using System.Text.Json.Serialization;
using EvoMerge.IO;

namespace EvoMerge.Evolution.Run;

/// <summary>The one JSON style of run folders: snake_case keys, enums as strings, doubles round-trip exactly.</summary>
public static class RunJson
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static JsonSerializerOptions Indented { get; } = new(Options) { WriteIndented = true };

    /// <summary>Writes <paramref name="text"/> to a temporary name beside <paramref name="path"/>, then renames it over.</summary>
    public static void WriteAtomically(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string temp = path + ".tmp";
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
    }

    public static void WriteFile<T>(string path, T value) => WriteAtomically(path, JsonSerializer.Serialize(value, Indented));

    public static T ReadFile<T>(string path)
    {
        try { return JsonSerializer.Deserialize<T>(InputFile.ReadAllText(path, InputFile.LargeFileBytes, typeof(T).Name + " file"), Options) ?? throw new JsonException("null document"); }
        catch (JsonException e) { throw new EvoMergeException($"{path}: not a valid {typeof(T).Name} file: {e.Message}", e); }
    }
}
