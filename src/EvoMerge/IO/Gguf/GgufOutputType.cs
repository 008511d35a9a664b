namespace EvoMerge.IO.Gguf;

/// <summary>The output types <c>export gguf --type</c> offers (llama.cpp's file types of the same names).</summary>
public enum GgufOutputType
{
    F32,
    F16,
    BF16,
    Q8_0,
    Q4_0,
    Q4_K_M,
    Q5_K_M,
    Q6_K,
}

public static class GgufOutputTypes
{
    /// <summary>The CLI spellings, in the order help lists them.</summary>
    public const string Names = "f32, f16, bf16, q8_0, q6_k, q5_k_m, q4_k_m, q4_0";

    /// <summary>ggml type of 2-D weight matrices before <see cref="GgufTypeMix"/> adjusts single tensors.</summary>
    public static GgufTensorType MatrixType(this GgufOutputType type) => type switch
    {
        GgufOutputType.F32 => GgufTensorType.F32,
        GgufOutputType.F16 => GgufTensorType.F16,
        GgufOutputType.BF16 => GgufTensorType.BF16,
        GgufOutputType.Q8_0 => GgufTensorType.Q8_0,
        GgufOutputType.Q4_0 => GgufTensorType.Q4_0,
        GgufOutputType.Q4_K_M => GgufTensorType.Q4_K,
        GgufOutputType.Q5_K_M => GgufTensorType.Q5_K,
        GgufOutputType.Q6_K => GgufTensorType.Q6_K,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>llama.cpp's <c>general.file_type</c> (<c>llama_ftype</c>): ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q4_0 2,
    /// MOSTLY_Q8_0 7, MOSTLY_Q4_K_M 15, MOSTLY_Q5_K_M 17, MOSTLY_Q6_K 18, MOSTLY_BF16 32.</summary>
    public static uint FileType(this GgufOutputType type) => type switch
    {
        GgufOutputType.F32 => 0,
        GgufOutputType.F16 => 1,
        GgufOutputType.BF16 => 32,
        GgufOutputType.Q8_0 => 7,
        GgufOutputType.Q4_0 => 2,
        GgufOutputType.Q4_K_M => 15,
        GgufOutputType.Q5_K_M => 17,
        GgufOutputType.Q6_K => 18,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>Parses the CLI spelling (f32, f16, bf16, q8_0, q6_k, q5_k_m, q4_k_m, q4_0), case-insensitively.</summary>
    public static GgufOutputType Parse(string text) => text.ToLowerInvariant() switch
    {
        "f32" => GgufOutputType.F32,
        "f16" => GgufOutputType.F16,
        "bf16" => GgufOutputType.BF16,
        "q8_0" => GgufOutputType.Q8_0,
        "q4_0" => GgufOutputType.Q4_0,
        "q4_k_m" => GgufOutputType.Q4_K_M,
        "q5_k_m" => GgufOutputType.Q5_K_M,
        "q6_k" => GgufOutputType.Q6_K,
        _ => throw new EvoMergeException($"GGUF type '{text}': expected one of {Names}"),
    };

    /// <summary>The CLI spelling of a type.</summary>
    public static string CliName(this GgufOutputType type) => type.ToString().ToLowerInvariant();
}
