using EvoMerge.IO;

namespace EvoMerge.Merge.Output;

/// <summary>Streams each merged tensor (or row block) straight into its slot of the safetensors shards, converting to the output dtype.</summary>
public sealed class WriterTarget(SafetensorsWriter writer) : IMergeBlockTarget
{
    public void Accept(string name, ReadOnlySpan<long> shape, ReadOnlySpan<float> values) => writer.WriteFloat32(name, values);

    public void AcceptBlock(string name, ReadOnlySpan<long> shape, long elementOffset, ReadOnlySpan<float> values) =>
        writer.WriteFloat32(name, values, elementOffset);
}
