using System.Numerics.Tensors;

namespace EvoMerge.Merge.Kernels;

/// <summary>Spherical interpolation of whole vectors (slerp, nuslerp), falling back to lerp where it is ill-defined.</summary>
public static class Spherical
{
    /// <summary>mergekit's threshold: beyond |cos θ| = 0.9995 the vectors are (anti)parallel and slerp degenerates to lerp.</summary>
    public const double ParallelThreshold = 0.9995;

    /// <summary>
    /// Shoemake's slerp from <paramref name="v0"/> (t = 0) to <paramref name="v1"/> (t = 1) on the unnormalised vectors:
    /// out = sin((1−t)θ)/sin θ · v0 + sin(tθ)/sin θ · v1, θ the angle between them. Nearly parallel or antiparallel
    /// vectors, and zero vectors, use linear interpolation (the great circle is not unique or θ is undefined).
    /// </summary>
    public static void Slerp(double t, ReadOnlySpan<float> v0, ReadOnlySpan<float> v1, Span<float> output)
    {
        var (s0, s1) = Coefficients(t, Gram(v0, v1));
        Combine(v0, s0, v1, s1, output);
    }

    /// <summary>Slerp's weights of v0 and v1 from their <see cref="Gram"/> sums (which may be accumulated block by block).</summary>
    public static (float S0, float S1) Coefficients(double t, (double XX, double YY, double XY) gram)
    {
        double n0 = Math.Sqrt(gram.XX), n1 = Math.Sqrt(gram.YY);
        double cos = n0 < 1e-8 || n1 < 1e-8 ? 1 : Math.Clamp(gram.XY / (n0 * n1), -1, 1);
        if (Math.Abs(cos) > ParallelThreshold) return ((float)(1 - t), (float)t);
        double theta = Math.Acos(cos), sin = Math.Sin(theta);
        return ((float)(Math.Sin((1 - t) * theta) / sin), (float)(Math.Sin(t * theta) / sin));
    }

    /// <summary>Slerp applied to each row of a row-major matrix separately.</summary>
    public static void SlerpRows(double t, ReadOnlySpan<float> v0, ReadOnlySpan<float> v1, Span<float> output, int rows)
    {
        int cols = v0.Length / rows;
        for (int r = 0; r < rows; r++)
            Slerp(t, v0.Slice(r * cols, cols), v1.Slice(r * cols, cols), output.Slice(r * cols, cols));
    }

    /// <summary>out = a·x + b·y.</summary>
    public static void Combine(ReadOnlySpan<float> x, float a, ReadOnlySpan<float> y, float b, Span<float> output)
    {
        TensorPrimitives.Multiply(y, b, output);
        TensorPrimitives.MultiplyAdd(x, a, output, output);
    }

    /// <summary>x·x, y·y and x·y in one pass over cache-sized chunks (the inputs are read from memory once, not three times).</summary>
    public static (double XX, double YY, double XY) Gram(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        double xx = 0, yy = 0, xy = 0;
        const int Block = 4096;
        for (int i = 0; i < x.Length; i += Block)
        {
            int len = Math.Min(Block, x.Length - i);
            ReadOnlySpan<float> a = x.Slice(i, len), b = y.Slice(i, len);
            xx += TensorPrimitives.Dot(a, a);
            yy += TensorPrimitives.Dot(b, b);
            xy += TensorPrimitives.Dot(a, b);
        }
        return (xx, yy, xy);
    }

    /// <summary>Dot product accumulated in double: float sums lose digits over millions of entries.</summary>
    public static double Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        double total = 0;
        const int Block = 4096;
        for (int i = 0; i < x.Length; i += Block)
        {
            int len = Math.Min(Block, x.Length - i);
            total += TensorPrimitives.Dot(x.Slice(i, len), y.Slice(i, len));
        }
        return total;
    }

    public static double Norm(ReadOnlySpan<float> x) => Math.Sqrt(Dot(x, x));
}
