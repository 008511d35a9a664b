namespace EvoMerge.Merge.Execution;

/// <summary>
/// Float32 tensors held in memory. The evolution loop caches each source model once with <see cref="CopyOf"/>, so
/// every candidate merge reads the arrays directly: no file access, no conversion, no per-candidate allocation.
/// </summary>
public sealed class InMemoryWeights(string label) : IWeightSource
{
    readonly Dictionary<string, (long[] Shape, float[] Values)> _tensors = new();
    readonly List<string> _order = [];

    public string Label { get; } = label;

    public IEnumerable<string> TensorNames => _order;

    public InMemoryWeights Add(string name, long[] shape, float[] values)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (count != values.Length) throw new ArgumentException($"tensor {name}: shape has {count} elements but {values.Length} values were given");
        if (!_tensors.ContainsKey(name)) _order.Add(name);
        _tensors[name] = (shape, values);
        return this;
    }

    public bool TryGetShape(string tensorName, out long[] shape)
    {
        bool found = _tensors.TryGetValue(tensorName, out var t);
        shape = found ? t.Shape : [];
        return found;
    }

    public void ReadFloat32(string tensorName, Span<float> destination) => Get(tensorName).CopyTo(destination);

    public void ReadFloat32(string tensorName, long elementOffset, Span<float> destination) =>
        Get(tensorName).AsSpan((int)elementOffset, destination.Length).CopyTo(destination);

    public float[]? ResidentFloat32(string tensorName) => Get(tensorName);

    public float[] Get(string tensorName) =>
        _tensors.TryGetValue(tensorName, out var t) ? t.Values : throw new KeyNotFoundException($"{Label}: no tensor '{tensorName}'");

    /// <summary>A float32 copy of every float tensor of <paramref name="source"/> (or only <paramref name="names"/>).</summary>
    public static InMemoryWeights CopyOf(IWeightSource source, IEnumerable<string>? names = null)
    {
        var copy = new InMemoryWeights(source.Label);
        // By default every float tensor: an integer buffer (a VLM's position_ids) is never a merge input.
        foreach (string name in names ?? source.TensorNames.Where(source.IsFloat))
        {
            if (!source.TryGetShape(name, out var shape)) throw new KeyNotFoundException($"{source.Label}: no tensor '{name}'");
            var values = new float[shape.Aggregate(1L, (a, b) => a * b)];
            source.ReadFloat32(name, values);
            copy.Add(name, shape, values);
        }
        return copy;
    }
}
