using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EvoMerge.Demo.Vision;

/// <summary>
/// One line of the VLM demo's table (the paper's VLM table in miniature), on the Japanese VQA test split: ROUGE-L
/// F1 ×100 with the language rule, key-word exact match (0..1), the share of replies in Japanese, and V's English
/// task for reference.
/// </summary>
/// <param name="Name">V, A, ties, dare-ties, evolved-ps, evolved-dfs, evolved-ps-dfs.</param>
/// <param name="Evaluations">Candidates scored on dev to find this model (0 for sources and untuned merges).</param>
/// <param name="Seconds">Wall time of this row: its search (if any) and its test scoring.</param>
public sealed record VlmDemoRow(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("rouge_l")] double RougeL,
    [property: JsonPropertyName("key_match")] double KeyMatch,
    [property: JsonPropertyName("in_ja")] double InJapanese,
    [property: JsonPropertyName("en_key_match")] double? EnglishKeyMatch,
    [property: JsonPropertyName("evaluations")] int Evaluations,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("dev_rouge_l")] double? DevRougeL = null,
    [property: JsonPropertyName("recipe")] string? Recipe = null);

/// <summary>A row against another on the test items: the mean ROUGE-L difference and its 95% paired bootstrap interval.</summary>
public sealed record VlmComparison(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("against")] string Against,
    [property: JsonPropertyName("rouge_l_difference")] double Difference,
    [property: JsonPropertyName("lower")] double Lower,
    [property: JsonPropertyName("upper")] double Upper,
    [property: JsonPropertyName("key_match_difference")] double KeyMatchDifference);

/// <summary>A test example shown in the report: the picture, the question, the reference, and two models' replies.</summary>
public sealed record VlmExample(
    [property: JsonPropertyName("image")] string Image,
    [property: JsonPropertyName("question")] string Question,
    [property: JsonPropertyName("reference")] string Reference,
    [property: JsonPropertyName("replies")] IReadOnlyDictionary<string, string> Replies);

/// <summary><c>summary.json</c> of <c>evomerge demo vlm</c>.</summary>
public sealed record VlmDemoSummary(
    [property: JsonPropertyName("rows")] IReadOnlyList<VlmDemoRow> Rows,
    [property: JsonPropertyName("comparisons")] IReadOnlyList<VlmComparison> Comparisons,
    [property: JsonPropertyName("examples")] IReadOnlyList<VlmExample> Examples,
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("quick")] bool Quick,
    [property: JsonPropertyName("test_items")] int TestItems,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("run_folders")] IReadOnlyList<string> RunFolders,
    [property: JsonPropertyName("report")] string Report)
{
    public const string FileName = "summary.json";

    static readonly JsonSerializerOptions Json = new()
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

    public VlmDemoRow this[string name] => Rows.First(r => r.Name == name);
}
