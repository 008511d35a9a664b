using System.Collections.Concurrent;
using EvoMerge.Merge.Kernels;

namespace EvoMerge.Merge.Execution;

/// <summary>
/// Inner products of the source models over spans of one tensor: G[s,t] = Σₓ θₛ(x)·θₜ(x) for x in the span. A blend's
/// norm and its dot product with another blend over a span are then cᵀGd, so slerping two blends needs no
/// materialised weights. Whole tensors and the few spans that split points cut are computed once, in double from
/// float32 values, and kept; the first use of a span reads it from every source.
/// </summary>
public sealed class SourceGeometry(MergePlan plan)
{
    readonly ConcurrentDictionary<(int Tensor, long From, long To), double[]> _grams = new();

    public FlatOrder Order { get; } = new(plan);

    public int SourceCount => plan.Sources.Count;

    /// <summary>The Gram matrix (row-major, n × n) of the sources over elements [from, to) of tensor <paramref name="tensor"/> (an index into <see cref="FlatOrder.Tensors"/>).</summary>
    public double[] Gram(int tensor, long from, long to) => _grams.GetOrAdd((tensor, from, to), Compute);

    double[] Compute((int Tensor, long From, long To) span)
    {
        var entry = Order.Tensors[span.Tensor];
        var job = plan.Jobs[entry.Job];
        int n = SourceCount, length = checked((int)(span.To - span.From));
        var values = new float[n][];
        for (int s = 0; s < n; s++)
        {
            var input = job.Models[s];
            var source = plan.Sources[input.Source];
            if (source.ResidentFloat32(input.TensorName) is { } resident) values[s] = resident[(int)span.From..(int)span.To];
            else source.ReadFloat32(input.TensorName, span.From, values[s] = new float[length]);
        }
        var gram = new double[n * n];
        for (int s = 0; s < n; s++)
            for (int t = s; t < n; t++)
                gram[s * n + t] = gram[t * n + s] = Spherical.Dot(values[s], values[t]);
        return gram;
    }
}
