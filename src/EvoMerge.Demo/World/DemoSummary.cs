using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EvoMerge.Demo;

/// <summary>
/// One line of the demo's Table-1-style comparison. Scores are fractions in 0..1 on the test splits; the dev score
/// (what the search or the grid choice saw) is kept beside them so overfitting to dev is visible.
/// </summary>
/// <param name="Name">A, B, average, task-arithmetic-best, dare-ties-default, joint-fine-tune (when the models have it), evolved-ps,
/// evolved-dfs, evolved-dfs-scales-1, evolved-ps-dfs.</param>
/// <param name="Evaluations">Candidates scored on dev to find this model (0 for fixed recipes and sources).</param>
/// <param name="Seconds">Wall time spent on this row: its search (if any) and its test scoring.</param>
/// <param name="Recipe">How the model is made, in words (weights, densities, path).</param>
/// <param name="JaMathStrictItems">Each test item's strict JA-math score (1 or 0), in item order: the paired bootstraps of <c>demo replicate</c>.</param>
public sealed record DemoRow(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("ja_math_strict")] double JaMathStrict,
    [property: JsonPropertyName("ja_math_number")] double JaMathNumber,
    [property: JsonPropertyName("en_math")] double EnMath,
    [property: JsonPropertyName("ja_qa")] double JaQa,
    [property: JsonPropertyName("evaluations")] int Evaluations,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("dev_ja_math_strict")] double? DevJaMathStrict = null,
    [property: JsonPropertyName("recipe")] string? Recipe = null,
    [property: JsonPropertyName("ja_math_strict_items")] IReadOnlyList<double>? JaMathStrictItems = null);

/// <summary><c>summary.json</c> of a demo run (what <c>evomerge demo --json</c> prints).</summary>
public sealed record DemoSummary(
    [property: JsonPropertyName("rows")] IReadOnlyList<DemoRow> Rows,
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("quick")] bool Quick,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("run_folders")] IReadOnlyList<string> RunFolders)
{
    public const string FileName = "summary.json";

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Writes <c>summary.json</c> into <paramref name="folder"/> (temp name, then rename).</summary>
    public void Write(string folder)
    {
        string path = Path.Combine(folder, FileName), temp = path + ".partial";
        File.WriteAllText(temp, ToJson());
        File.Move(temp, path, overwrite: true);
    }

    public DemoRow this[string name] => Rows.First(r => r.Name == name);
}
