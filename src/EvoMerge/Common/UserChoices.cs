using EvoMerge.IO;
using EvoMerge.Merge.Methods;

namespace EvoMerge;

/// <summary>
/// The names users write for a dtype or a compat mode, in recipes, evolve.yml and on the command line: one table
/// each, so every place accepts the same spellings. Errors start with <c>where</c> (a recipe mark, an option name).
/// </summary>
public static class UserChoices
{
    /// <summary>"bf16", "bfloat16", "float16", "F32", ... (case-insensitive).</summary>
    public static DType DType(string name, string where) => name.Trim().ToLowerInvariant() switch
    {
        "f64" or "float64" or "double" or "fp64" => IO.DType.F64,
        "f32" or "float32" or "float" or "fp32" => IO.DType.F32,
        "f16" or "float16" or "half" or "fp16" => IO.DType.F16,
        "bf16" or "bfloat16" => IO.DType.BF16,
        "f8_e4m3" or "float8_e4m3fn" => IO.DType.F8_E4M3,
        "f8_e5m2" or "float8_e5m2" => IO.DType.F8_E5M2,
        _ => throw new EvoMergeException($"{where}: unknown dtype '{name}': expected one of float32, float16, bfloat16, float64, float8_e4m3fn, float8_e5m2"),
    };

    /// <summary>"paper" or "mergekit": whose arithmetic to follow where they differ (<see cref="MergeCompat"/>).</summary>
    public static MergeCompat Compat(string name, string where) => name switch
    {
        "paper" => MergeCompat.Paper,
        "mergekit" => MergeCompat.Mergekit,
        _ => throw new EvoMergeException($"{where}: expected 'mergekit' or 'paper', got '{name}'{NearestName.Suggest(name, ["mergekit", "paper"])}"),
    };
}
