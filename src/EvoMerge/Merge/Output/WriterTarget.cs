using EvoMerge.IO;

namespace EvoMerge.Merge.Output;

/// <summary>Streams each merged tensor straight into its slot of the safetensors shards, converting to the output dtype.</summary>
public sealed class WriterTarget(SafetensorsWriter writer) : IMergeTarget
{
    public void Accept(string name, ReadOnlySpan<long> shape, ReadOnlySpan<float> values) => writer.WriteFloat32(name, values);
}
