namespace EvoMerge.Merge.Execution;

/// <summary>
/// A model's tensors as the executor reads them: by name, converted to float32 into a caller's buffer. Memory-mapped
/// safetensors (<see cref="SafetensorsWeights"/>) and float32 arrays already in memory (<see cref="InMemoryWeights"/>,
/// what the evolution loop caches once and reuses for every candidate) both implement it.
/// </summary>
public interface IWeightSource
{
    /// <summary>How messages name this model (its path or recipe name).</summary>
    string Label { get; }

    IEnumerable<string> TensorNames { get; }

    bool TryGetShape(string tensorName, out long[] shape);

    /// <summary>Converts the tensor to float32 into <paramref name="destination"/> (exactly its element count).</summary>
    void ReadFloat32(string tensorName, Span<float> destination);

    /// <summary>Converts <paramref name="destination"/>.Length elements starting at element <paramref name="elementOffset"/>.</summary>
    void ReadFloat32(string tensorName, long elementOffset, Span<float> destination);

    /// <summary>The tensor's float32 values when they are already resident (no copy needed), else null.</summary>
    float[]? ResidentFloat32(string tensorName);

    /// <summary>
    /// False for a tensor that does not convert to float32 (an integer buffer such as an old CLIP checkpoint's
    /// <c>position_ids</c>): a plan copies nothing of it. Sources held in memory are float.
    /// </summary>
    bool IsFloat(string tensorName) => true;
}
