using System.Runtime.InteropServices;
using EvoMerge.Merge.Kernels;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Model;

/// <summary>
/// y = x·Wᵀ (+ b), as <c>nn.Linear</c>, with one hand-written case: a single row on the CPU without autograd — a
/// batch-1 decode step. That product reads every weight once and is bound by memory bandwidth, yet libtorch's CPU
/// kernel for it streams the weights at a fraction of what the memory delivers (measured 6–12 GB/s against
/// llama.cpp's ~32 GB/s, bench <c>runtime</c>), so decoding one sequence ran at half of llama.cpp's speed. Here
/// each weight row is a SIMD dot product with x (<see cref="DotProduct"/>: bf16 widened to f32 in registers, one
/// summation order at every vector width), rows split over torch's thread count. Everything else (batches, prefill,
/// training, CUDA) goes to libtorch.
/// </summary>
public static class Projection
{
    public static Tensor Apply(TorchSharp.Modules.Linear layer, Tensor x) => Apply(layer.weight!, layer.bias, x);

    public static Tensor Apply(Tensor weight, Tensor? bias, Tensor x) =>
        SingleRow([weight], x) ? MatVec([(weight, bias)], x)[0] : nn.functional.linear(x, weight, bias);

    /// <summary>
    /// Several projections of the same input (q, k and v; gate and up). A decode step runs them as one pass over all
    /// their rows (one input conversion, one fork/join instead of one per projection); each row's dot product is the
    /// one <see cref="Apply(Tensor, Tensor?, Tensor)"/> computes, so the results are the same bits.
    /// </summary>
    public static Tensor[] Apply(IReadOnlyList<TorchSharp.Modules.Linear> layers, Tensor x) =>
        SingleRow([.. layers.Select(l => l.weight!)], x)
            ? MatVec([.. layers.Select(l => (l.weight!, l.bias))], x)
            : [.. layers.Select(l => nn.functional.linear(x, l.weight!, l.bias))];

    static bool SingleRow(Tensor[] weights, Tensor x) =>
        x.numel() == x.shape[^1] && x.device_type == TorchSharp.DeviceType.CPU
        && weights.All(w => w.dtype is ScalarType.Float32 or ScalarType.BFloat16 && x.dtype == w.dtype && w.is_contiguous() && w.shape[1] == x.shape[^1])
        && !(is_grad_enabled() && (x.requires_grad || weights.Any(w => w.requires_grad)));

    static unsafe Tensor[] MatVec((Tensor Weight, Tensor? Bias)[] projections, Tensor x)
    {
        int columns = (int)x.shape[^1];
        var rowsOf = projections.Select(p => (int)p.Weight.shape[0]).ToArray();
        int total = rowsOf.Sum();
        using var scope = NewDisposeScope();
        var input = x.to_type(ScalarType.Float32).contiguous();
        var output = empty([total], ScalarType.Float32);
        float* inputPointer = (float*)DataPointer(input), outputPointer = (float*)DataPointer(output);
        // Row r of the concatenation is row r - start[i] of projection i.
        var start = new int[projections.Length + 1];
        var weights = new IntPtr[projections.Length];
        var bf16 = new bool[projections.Length];
        for (int i = 0; i < projections.Length; i++)
        {
            start[i + 1] = start[i] + rowsOf[i];
            weights[i] = DataPointer(projections[i].Weight);
            bf16[i] = projections[i].Weight.dtype == ScalarType.BFloat16;
        }

        int parts = Math.Max(1, Math.Min(get_num_threads(), total / 64));
        if (parts == 1) Rows(0, total);
        else Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts },
            p => Rows((int)((long)total * p / parts), (int)((long)total * (p + 1) / parts)));

        void Rows(int from, int to)
        {
            var xs = new ReadOnlySpan<float>(inputPointer, columns);
            int i = 0;
            for (int r = from; r < to; r++)
            {
                while (r >= start[i + 1]) i++;
                long row = r - start[i];
                outputPointer[r] = bf16[i]
                    ? DotProduct.BFloat16(new ReadOnlySpan<ushort>((ushort*)weights[i] + row * columns, columns), xs)
                    : DotProduct.Float32(new ReadOnlySpan<float>((float*)weights[i] + row * columns, columns), xs);
            }
        }

        var results = new Tensor[projections.Length];
        for (int i = 0; i < projections.Length; i++)
        {
            var y = projections.Length == 1 ? output : output.narrow(0, start[i], rowsOf[i]);
            if (projections[i].Bias is { } bias) y = y + bias.to_type(ScalarType.Float32);
            var shape = x.shape.ToArray();
            shape[^1] = rowsOf[i];
            results[i] = y.view(shape).to_type(x.dtype).MoveToOuterDisposeScope();
        }
        return results;
    }

    /// <summary>
    /// The address of a CPU tensor's first element. TorchSharp has no public accessor that works for bfloat16
    /// (<c>storage&lt;T&gt;()</c> refuses it), so this calls the native entry its own <c>TensorAccessor</c> uses.
    /// </summary>
    static IntPtr DataPointer(Tensor tensor) => THSTensor_data(tensor.Handle);

    [DllImport("LibTorchSharp")]
    static extern IntPtr THSTensor_data(IntPtr handle);
}
