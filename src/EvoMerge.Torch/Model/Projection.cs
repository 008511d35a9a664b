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

    public static Tensor Apply(Tensor weight, Tensor? bias, Tensor x)
    {
        bool singleRow = x.numel() == x.shape[^1];
        bool supported = weight.dtype is ScalarType.Float32 or ScalarType.BFloat16 && x.dtype == weight.dtype && weight.is_contiguous();
        if (!singleRow || !supported || x.device_type != TorchSharp.DeviceType.CPU || (is_grad_enabled() && (weight.requires_grad || x.requires_grad)))
            return nn.functional.linear(x, weight, bias);
        return MatVec(weight, bias, x);
    }

    static unsafe Tensor MatVec(Tensor weight, Tensor? bias, Tensor x)
    {
        int rows = (int)weight.shape[0], columns = (int)weight.shape[1];
        using var scope = NewDisposeScope();
        var input = x.to_type(ScalarType.Float32).contiguous();
        var output = empty([rows], ScalarType.Float32);
        float* inputPointer = (float*)DataPointer(input), outputPointer = (float*)DataPointer(output);
        bool bf16 = weight.dtype == ScalarType.BFloat16;
        void* weights = (void*)DataPointer(weight);

        int parts = Math.Max(1, Math.Min(get_num_threads(), rows / 64));
        if (parts == 1) Rows(0, rows);
        else Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts },
            p => Rows((int)((long)rows * p / parts), (int)((long)rows * (p + 1) / parts)));

        void Rows(int from, int to)
        {
            var xs = new ReadOnlySpan<float>(inputPointer, columns);
            for (int r = from; r < to; r++)
                outputPointer[r] = bf16
                    ? DotProduct.BFloat16(new ReadOnlySpan<ushort>((ushort*)weights + (long)r * columns, columns), xs)
                    : DotProduct.Float32(new ReadOnlySpan<float>((float*)weights + (long)r * columns, columns), xs);
        }

        if (bias is not null) output.add_(bias.to_type(ScalarType.Float32));
        var shape = x.shape.ToArray();
        shape[^1] = rows;
        return output.view(shape).to_type(x.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The address of a CPU tensor's first element. TorchSharp has no public accessor that works for bfloat16
    /// (<c>storage&lt;T&gt;()</c> refuses it), so this calls the native entry its own <c>TensorAccessor</c> uses.
    /// </summary>
    static IntPtr DataPointer(Tensor tensor) => THSTensor_data(tensor.Handle);

    [DllImport("LibTorchSharp")]
    static extern IntPtr THSTensor_data(IntPtr handle);
}
