namespace EvoMerge.IO.Gguf;

/// <summary>The ggml tensor types EvoMerge writes (numbers are ggml's <c>ggml_type</c>).</summary>
public enum GgufTensorType : uint
{
    F32 = 0,
    F16 = 1,
    Q8_0 = 8,
    BF16 = 30,
}

/// <summary>Metadata value types of GGUF v3 (numbers are <c>gguf_type</c>).</summary>
public enum GgufValueType : uint
{
    UInt8 = 0, Int8 = 1, UInt16 = 2, Int16 = 3, UInt32 = 4, Int32 = 5, Float32 = 6, Bool = 7,
    String = 8, Array = 9, UInt64 = 10, Int64 = 11, Float64 = 12,
}

/// <summary>Token kinds of <c>tokenizer.ggml.token_type</c>; the same numbers as SentencePiece's piece types.</summary>
public enum GgufTokenType
{
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
}

/// <summary>The output types <c>export gguf --type</c> offers.</summary>
public enum GgufOutputType
{
    F32,
    F16,
    BF16,
    Q8_0,
}

public static class GgufOutputTypes
{
    /// <summary>ggml type of 2-D weight matrices for an output type.</summary>
    public static GgufTensorType MatrixType(this GgufOutputType type) => type switch
    {
        GgufOutputType.F32 => GgufTensorType.F32,
        GgufOutputType.F16 => GgufTensorType.F16,
        GgufOutputType.BF16 => GgufTensorType.BF16,
        GgufOutputType.Q8_0 => GgufTensorType.Q8_0,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>llama.cpp's <c>general.file_type</c> (<c>llama_ftype</c>): ALL_F32, MOSTLY_F16, MOSTLY_BF16, MOSTLY_Q8_0.</summary>
    public static uint FileType(this GgufOutputType type) => type switch
    {
        GgufOutputType.F32 => 0,
        GgufOutputType.F16 => 1,
        GgufOutputType.BF16 => 32,
        GgufOutputType.Q8_0 => 7,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>Parses the CLI spelling (f32, f16, bf16, q8_0), case-insensitively.</summary>
    public static GgufOutputType Parse(string text) => text.ToLowerInvariant() switch
    {
        "f32" => GgufOutputType.F32,
        "f16" => GgufOutputType.F16,
        "bf16" => GgufOutputType.BF16,
        "q8_0" => GgufOutputType.Q8_0,
        _ => throw new EvoMergeException($"GGUF type '{text}': expected one of f32, f16, bf16, q8_0"),
    };
}
