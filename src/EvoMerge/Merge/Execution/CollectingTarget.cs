using System.Collections.Concurrent;

namespace EvoMerge.Merge.Execution;

/// <summary>
/// Keeps merged tensors as float32 arrays by name, reusing each array across merges of the same plan. For tests,
/// and for callers that want the values rather than a file.
/// </summary>
public sealed class CollectingTarget : IMergeTarget
{
    readonly ConcurrentDictionary<string, (long[] Shape, float[] Values)> _tensors = new();

    public IReadOnlyDictionary<string, (long[] Shape, float[] Values)> Tensors => _tensors;

    public float[] this[string name] => _tensors[name].Values;

    public void Accept(string name, ReadOnlySpan<long> shape, ReadOnlySpan<float> values)
    {
        if (!_tensors.TryGetValue(name, out var entry) || entry.Values.Length != values.Length)
            _tensors[name] = entry = (shape.ToArray(), new float[values.Length]);
        values.CopyTo(entry.Values);
    }
}
