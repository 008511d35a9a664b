using System.Runtime.CompilerServices;
using MathNet.Numerics.LinearAlgebra;

namespace EvoMerge.Lora.Linalg;

/// <summary>The leading singular triplets of a matrix: A ≈ U · diag(S) · Vᵀ, U rows × Count, V cols × Count (both row-major).</summary>
public sealed record SvdFactors(int Rows, int Cols, int Count, float[] U, double[] S, float[] V);

/// <summary>
/// Truncated SVD by random projection (Halko, Martinsson and Tropp, "Finding structure with randomness", 2011,
/// algorithms 4.4 and 5.1): a Gaussian sketch of width k = rank + oversampling, a few power iterations (each
/// re-orthonormalised) so that a slowly decaying spectrum is still resolved, then the exact SVD of the small
/// projected matrix. All large products are <see cref="MatrixProduct"/>; only k × k problems go to MathNet.
/// When k reaches the smaller side of the matrix, the sketch spans the whole column space and the result is exact.
/// </summary>
public static class RandomizedSvd
{
    /// <summary>
    /// The leading <paramref name="k"/> (capped at min(rows, cols)) singular triplets of <paramref name="a"/>
    /// (rows × cols, row-major, float32; left unchanged).
    /// </summary>
    public static SvdFactors Compute(float[] a, int rows, int cols, int k, int powerIterations, ulong seed, int threads)
    {
        k = Math.Min(k, Math.Min(rows, cols));
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), "the sketch needs at least one column");
        int stride = (k + 15) / 16 * 16; // thin matrices are padded so that the product's vector tile covers every row
        var omega = Gaussian(cols, k, stride, seed);
        // Aᵀ products read a transposed copy: through strides, every step of the inner loop would touch a new page.
        var at = Transpose(a, rows, cols, threads);
        var q = Orthonormal(Times(a, rows, cols, omega, stride, threads), rows, k, stride);
        for (int i = 0; i < powerIterations; i++)
        {
            var z = Orthonormal(Times(at, cols, rows, q, stride, threads), cols, k, stride);
            q = Orthonormal(Times(a, rows, cols, z, stride, threads), rows, k, stride);
        }
        // Bᵀ = Aᵀ Q (cols × k) = Qb · Rb, so B = Qᵀ A = Rbᵀ Qbᵀ; the SVD of the k × k matrix Rbᵀ finishes the job.
        var (qb, rb) = HouseholderQr.Factor(Times(at, cols, rows, q, stride, threads), cols, k, stride);
        var small = Matrix<double>.Build.Dense(k, k, (i, j) => rb[j * k + i]); // Rbᵀ
        var svd = small.Svd(computeVectors: true);
        var u = Rotate(q, rows, k, stride, svd.U, threads);
        var v = Rotate(qb, cols, k, stride, svd.VT.Transpose(), threads);
        return new SvdFactors(rows, cols, k, Compact(u, rows, k, stride), svd.S.ToArray(), Compact(v, cols, k, stride));
    }

    /// <summary>A · X (rows × stride) for a thin X.</summary>
    static float[] Times(float[] a, int rows, int cols, float[] x, int stride, int threads)
    {
        var result = new float[(long)rows * stride];
        MatrixProduct.MultiplyAdd(a, rows, cols, cols, 1, x, stride, result, threads);
        return result;
    }

    /// <summary>Aᵀ (cols × rows), in 32 × 32 blocks so that reads and writes both stay within a few pages.</summary>
    static float[] Transpose(float[] a, int rows, int cols, int threads)
    {
        const int block = 32;
        var result = new float[a.Length];
        int blocks = (rows + block - 1) / block;
        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, rb => TransposeRows(a, rows, cols, rb * block, Math.Min(rows, rb * block + block), result));
        return result;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void TransposeRows(float[] a, int rows, int cols, int r0, int r1, float[] result)
    {
        const int block = 32;
        for (int c0 = 0; c0 < cols; c0 += block)
        {
            int c1 = Math.Min(cols, c0 + block);
            for (int r = r0; r < r1; r++)
                for (int c = c0; c < c1; c++) result[(long)c * rows + r] = a[(long)r * cols + c];
        }
    }

    static float[] Orthonormal(float[] y, int rows, int k, int stride) => HouseholderQr.Factor(y, rows, k, stride).Q;

    /// <summary>X · M for X (rows × stride, k columns used) and a k × k matrix M.</summary>
    static float[] Rotate(float[] x, int rows, int k, int stride, Matrix<double> m, int threads)
    {
        var mf = new float[k * stride];
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) mf[i * stride + j] = (float)m[i, j];
        var result = new float[(long)rows * stride];
        MatrixProduct.MultiplyAdd(x, rows, k, stride, 1, mf, stride, result, threads);
        return result;
    }

    static float[] Compact(float[] x, int rows, int k, int stride)
    {
        var result = new float[(long)rows * k];
        for (int r = 0; r < rows; r++) Array.Copy(x, (long)r * stride, result, (long)r * k, k);
        return result;
    }

    /// <summary>A standard normal rows × k sketch (Box–Muller over a seeded xorshift), padded to <paramref name="stride"/> with zeros.</summary>
    static float[] Gaussian(int rows, int k, int stride, ulong seed)
    {
        var result = new float[(long)rows * stride];
        ulong state = seed * 0x9E3779B97F4A7C15UL + 0xD1B54A32D192ED03UL;
        double Next()
        {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            return ((state >> 11) + 0.5) * (1.0 / (1UL << 53));
        }
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < k; c += 2)
            {
                double radius = Math.Sqrt(-2 * Math.Log(Next())), angle = 2 * Math.PI * Next();
                result[(long)r * stride + c] = (float)(radius * Math.Cos(angle));
                if (c + 1 < k) result[(long)r * stride + c + 1] = (float)(radius * Math.Sin(angle));
            }
        return result;
    }
}
