using System.Numerics;
using System.Runtime.CompilerServices;

namespace EvoMerge.Lora.Linalg;

/// <summary>
/// The few vector loops of LoRA extraction, compiled fully optimised from the first call. TensorPrimitives' generic
/// methods start in tier-0 JIT code, tens of times slower, and on a busy machine the background re-JIT that would fix
/// them waits: measured, 5,400 dot/axpy pairs of 2,048 doubles (one QR's worth) took 130–250 ms that way.
/// </summary>
static class VectorOps
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        var sum = Vector<double>.Zero;
        int n = Vector<double>.Count, i = 0;
        for (; i + n <= x.Length; i += n) sum = Vector.FusedMultiplyAdd(new Vector<double>(x[i..]), new Vector<double>(y[i..]), sum);
        double result = Vector.Sum(sum);
        for (; i < x.Length; i++) result += x[i] * y[i];
        return result;
    }

    /// <summary>y += a · x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddScaled(Span<double> y, double a, ReadOnlySpan<double> x)
    {
        var av = new Vector<double>(a);
        int n = Vector<double>.Count, i = 0;
        for (; i + n <= x.Length; i += n) Vector.FusedMultiplyAdd(av, new Vector<double>(x[i..]), new Vector<double>(y[i..])).CopyTo(y[i..]);
        for (; i < x.Length; i++) y[i] += a * x[i];
    }

    /// <summary>Σ x², accumulated in float32 vectors within 4,096-element blocks and in float64 across them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double SumOfSquares(ReadOnlySpan<float> x)
    {
        double total = 0;
        int n = Vector<float>.Count;
        for (int start = 0; start < x.Length; start += 4096)
        {
            var block = x.Slice(start, Math.Min(4096, x.Length - start));
            var sum = Vector<float>.Zero;
            int i = 0;
            for (; i + n <= block.Length; i += n) { var v = new Vector<float>(block[i..]); sum = Vector.FusedMultiplyAdd(v, v, sum); }
            double part = Vector.Sum(sum);
            for (; i < block.Length; i++) part += block[i] * block[i];
            total += part;
        }
        return total;
    }

    /// <summary>x −= y.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Subtract(Span<float> x, ReadOnlySpan<float> y)
    {
        int n = Vector<float>.Count, i = 0;
        for (; i + n <= x.Length; i += n) (new Vector<float>(x[i..]) - new Vector<float>(y[i..])).CopyTo(x[i..]);
        for (; i < x.Length; i++) x[i] -= y[i];
    }
}
