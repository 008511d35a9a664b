using System.Collections.Concurrent;

using EvoMerge.Merge.Execution;
using EvoMerge.Merge;

namespace EvoMerge.TestSupport;

/// <summary>
/// Keeps merged tensors as float32 arrays by name, reusing each array across merges of the same plan. Accepts row
/// blocks, so entry-wise methods stream through the cache. For tests, and for callers that want the values rather
/// than a file.
/// </summary>
public sealed class CollectingTarget : IMergeBlockTarget
{
    readonly ConcurrentDictionary<string, (long[] Shape, float[] Values)> _tensors = new();

    public IReadOnlyDictionary<string, (long[] Shape, float[] Values)> Tensors => _tensors;

    public float[] this[string name] => _tensors[name].Values;

    public void Accept(string name, ReadOnlySpan<long> shape, ReadOnlySpan<float> values) => values.CopyTo(Slot(name, shape));

    public void AcceptBlock(string name, ReadOnlySpan<long> shape, long elementOffset, ReadOnlySpan<float> values) =>
        values.CopyTo(Slot(name, shape).AsSpan((int)elementOffset));

    float[] Slot(string name, ReadOnlySpan<long> shape)
    {
        long count = 1;
        foreach (long d in shape) count *= d;
        if (_tensors.TryGetValue(name, out var entry) && entry.Values.Length == count) return entry.Values;
        // Concurrent blocks of a new tensor must share one array: the first to arrive creates it.
        var fresh = (shape.ToArray(), new float[count]);
        return _tensors.AddOrUpdate(name, fresh, (_, old) => old.Values.Length == count ? old : fresh).Values;
    }
}
