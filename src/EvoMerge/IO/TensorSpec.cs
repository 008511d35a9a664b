namespace EvoMerge.IO;

/// <summary>A tensor to be written: its name, the dtype it is stored as, and its shape.</summary>
public sealed record TensorSpec(string Name, DType DType, long[] Shape)
{
    public long ElementCount => TensorInfo.ElementCountOf(Shape);
    public long ByteLength => ElementCount * DType.ElementSize();
}
