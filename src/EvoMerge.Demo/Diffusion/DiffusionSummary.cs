using System.Text.Json;
using System.Text.Json.Serialization;

namespace EvoMerge.Demo.Diffusion;

/// <summary>
/// One row of the diffusion demo's table, scored on the Japanese test prompts: mean prompt fidelity (0..1) and the
/// Fréchet distance of the judge's features to real pictures (lower is more realistic).
/// </summary>
/// <param name="Name">J@4, L@4, J@50, average, J+ΔL (the recipe the searches start from), evolved-ps, evolved-ps-te-j (and L@4-en, L's own English prompts, for reference).</param>
/// <param name="Steps">DDIM steps used.</param>
/// <param name="Evaluations">Candidates scored on dev to find the row's model.</param>
/// <param name="Weights">For merges: the weight of L per group (the rest is J's), in group order; "text_encoder" last where merged.</param>
public sealed record DiffusionRow(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("steps")] int Steps,
    [property: JsonPropertyName("fidelity")] double Fidelity,
    [property: JsonPropertyName("realism_fd")] double RealismFd,
    [property: JsonPropertyName("evaluations")] int Evaluations,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("dev_fidelity")] double? DevFidelity = null,
    [property: JsonPropertyName("weights")] IReadOnlyDictionary<string, double>? Weights = null,
    [property: JsonPropertyName("per_prompt")] IReadOnlyList<double>? PerPrompt = null);

/// <summary>A paired bootstrap 95% interval of a row's mean fidelity minus another's, over the test prompts.</summary>
public sealed record FidelityDifference(
    [property: JsonPropertyName("row")] string Row,
    [property: JsonPropertyName("minus")] string Minus,
    [property: JsonPropertyName("mean")] double Mean,
    [property: JsonPropertyName("low")] double Low,
    [property: JsonPropertyName("high")] double High);

/// <summary>
/// <c>summary.json</c> of <c>evomerge demo diffusion</c>. <see cref="RealFidelity"/> is the judge's fidelity on the real
/// pictures of the test prompts: the ceiling a generator can reach under this judge.
/// </summary>
public sealed record DiffusionSummary(
    [property: JsonPropertyName("rows")] IReadOnlyList<DiffusionRow> Rows,
    [property: JsonPropertyName("differences")] IReadOnlyList<FidelityDifference> Differences,
    [property: JsonPropertyName("test_prompts")] IReadOnlyList<string> TestPrompts,
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("quick")] bool Quick,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("report")] string Report,
    [property: JsonPropertyName("real_fidelity")] double RealFidelity)
{
    public const string FileName = "summary.json";

    public string ToJson() => JsonSerializer.Serialize(this, DemoSummary.Json);

    public DiffusionRow this[string name] => Rows.First(r => r.Name == name);
}
