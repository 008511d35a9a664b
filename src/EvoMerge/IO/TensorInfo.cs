namespace EvoMerge.IO;

/// <summary>
/// One tensor of a safetensors file as its header describes it. <see cref="DataOffset"/> counts from the start of
/// the data section (right after the header), as the format's <c>data_offsets</c> do.
/// </summary>
public sealed record TensorInfo(string Name, DType DType, long[] Shape, long DataOffset, long ByteLength)
{
    /// <summary>Number of elements: the product of <see cref="Shape"/> (1 for a scalar).</summary>
    public long ElementCount => ElementCountOf(Shape);

    public static long ElementCountOf(ReadOnlySpan<long> shape)
    {
        long n = 1;
        foreach (long d in shape) n = checked(n * d);
        return n;
    }

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
