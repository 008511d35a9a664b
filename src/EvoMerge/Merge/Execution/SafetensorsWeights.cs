using EvoMerge.IO;

namespace EvoMerge.Merge.Execution;

/// <summary>A memory-mapped safetensors model (one file or shards) as a weight source; bf16/f16/f32 convert on read.</summary>
public sealed class SafetensorsWeights(SafetensorsModel model, string label) : IWeightSource
{
    public string Label { get; } = label;

    public SafetensorsModel Model { get; } = model;

    public IEnumerable<string> TensorNames => Model.Tensors.Select(t => t.Name);

    public bool TryGetShape(string tensorName, out long[] shape)
    {
        bool found = Model.TryGetInfo(tensorName, out var info);
        shape = found ? info.Shape : [];
        return found;
    }

    public void ReadFloat32(string tensorName, Span<float> destination)
    {
        var info = Model.GetInfo(tensorName);
        var bytes = Model.GetBytes(tensorName);
        FloatConversion.ToFloat32(bytes, info.DType, destination);
        MappedPages.Release(bytes);
    }

    public void ReadFloat32(string tensorName, long elementOffset, Span<float> destination)
    {
        var info = Model.GetInfo(tensorName);
        int size = info.DType.ElementSize();
        var bytes = Model.GetBytes(info, elementOffset * size, destination.Length * size);
        FloatConversion.ToFloat32(bytes, info.DType, destination);
        MappedPages.Release(bytes);
    }

    public float[]? ResidentFloat32(string tensorName) => null;
}
