namespace EvoMerge.IO;

/// <summary>The element types of the safetensors format (the names in its header are <see cref="DTypes.SafetensorsName"/>).</summary>
public enum DType
{
    F64,
    F32,
    F16,
    BF16,
    /// <summary>8-bit float, 4 exponent bits, 3 mantissa bits, no infinities ("fn" variant, max 448).</summary>
    F8_E4M3,
    /// <summary>8-bit float, 5 exponent bits, 2 mantissa bits: the upper byte of an IEEE half.</summary>
    F8_E5M2,
    I64,
    I32,
    I16,
    I8,
    U8,
    BOOL,
    U16,
    U32,
    U64,
    /// <summary>8-bit power of two (exponent only, the MX block scale): stored and copied, not converted.</summary>
    F8_E8M0,
}

/// <summary>Sizes, header names and kinds of <see cref="DType"/> values.</summary>
public static class DTypes
{
    /// <summary>Bytes per element.</summary>
    public static int ElementSize(this DType dtype) => dtype switch
    {
        DType.F64 or DType.I64 or DType.U64 => 8,
        DType.F32 or DType.I32 or DType.U32 => 4,
        DType.F16 or DType.BF16 or DType.I16 or DType.U16 => 2,
        DType.F8_E4M3 or DType.F8_E5M2 or DType.F8_E8M0 or DType.I8 or DType.U8 or DType.BOOL => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    /// <summary>True for the types that convert to and from float32 (<see cref="FloatConversion"/>).</summary>
    public static bool IsFloat(this DType dtype) =>
        dtype is DType.F64 or DType.F32 or DType.F16 or DType.BF16 or DType.F8_E4M3 or DType.F8_E5M2;

    /// <summary>The spelling in a safetensors header ("BF16", "F8_E4M3", ...).</summary>
    public static string SafetensorsName(this DType dtype) => dtype.ToString();

    /// <summary>Parses a safetensors header dtype; false for names this format does not define.</summary>
    public static bool TryParse(string name, out DType dtype) => ByName.TryGetValue(name, out dtype);

    /// <summary>Sub-byte types of the format (packed several to a byte), which EvoMerge recognises but does not read.</summary>
    public static readonly IReadOnlyList<string> PackedNames = ["F4", "F6_E2M3", "F6_E3M2"];

    // An exact lookup: Enum.TryParse would also accept "3" or "F32,F16".
    static readonly Dictionary<string, DType> ByName = Enum.GetValues<DType>().ToDictionary(d => d.SafetensorsName());
}
