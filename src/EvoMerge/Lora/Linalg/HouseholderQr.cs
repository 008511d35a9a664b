using System.Runtime.CompilerServices;

namespace EvoMerge.Lora.Linalg;

/// <summary>
/// Thin QR of a tall matrix by Householder reflections in float64. Unlike Gram-Schmidt or Cholesky-QR it stays
/// orthonormal when the matrix is rank-deficient (a weight difference of low rank, or all zeros), which randomised
/// SVD meets whenever the sketch is wider than the difference's rank. Columns are stored contiguously so that each
/// reflection is a vectorised dot product and update per column. Single-threaded: the extractor runs one module per
/// thread, and one panel of a few dozen columns is too little work to split.
/// </summary>
static class HouseholderQr
{
    /// <summary>
    /// Factors the first <paramref name="k"/> columns of <paramref name="y"/> (rows × stride, row-major):
    /// returns Q (rows × stride, float32, orthonormal columns 0..k−1, zeros beyond) and R (k × k, row-major).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (float[] Q, double[] R) Factor(float[] y, int rows, int k, int stride)
    {
        if (k > rows) throw new ArgumentException($"a thin QR needs at least as many rows as columns ({rows} < {k})");
        var cols = new double[k][];
        for (int c = 0; c < k; c++)
        {
            var col = cols[c] = new double[rows];
            for (int r = 0; r < rows; r++) col[r] = y[(long)r * stride + c];
        }
        var reflectors = new double[k][];
        var diagonal = new double[k];
        for (int j = 0; j < k; j++)
        {
            var x = cols[j].AsSpan(j);
            double norm = Math.Sqrt(VectorOps.Dot(x, x));
            double alpha = x[0] > 0 ? -norm : norm;
            var v = new double[rows - j];
            x.CopyTo(v);
            v[0] -= alpha;
            double vNorm = Math.Sqrt(VectorOps.Dot(v, v));
            diagonal[j] = alpha;
            if (vNorm == 0) { reflectors[j] = v; continue; } // the column is already zero below the diagonal
            for (int i = 0; i < v.Length; i++) v[i] /= vNorm;
            reflectors[j] = v;
            for (int c = j + 1; c < k; c++) Reflect(v, cols[c].AsSpan(j));
        }
        var rMatrix = new double[k * k];
        for (int c = 0; c < k; c++)
        {
            for (int r = 0; r < c; r++) rMatrix[r * k + c] = cols[c][r];
            rMatrix[c * k + c] = diagonal[c];
        }
        // Q = H_0 H_1 … H_{k−1} applied to the first k columns of the identity, last reflection first.
        var q = new double[k][];
        for (int c = 0; c < k; c++) { q[c] = new double[rows]; q[c][c] = 1; }
        for (int j = k - 1; j >= 0; j--)
        {
            var v = reflectors[j];
            for (int c = j; c < k; c++) Reflect(v, q[c].AsSpan(j));
        }
        var result = new float[(long)rows * stride];
        for (int c = 0; c < k; c++)
        {
            var col = q[c];
            for (int r = 0; r < rows; r++) result[(long)r * stride + c] = (float)col[r];
        }
        return (result, rMatrix);
    }

    /// <summary>x ← (I − 2vvᵀ) x for a unit vector v.</summary>
    static void Reflect(double[] v, Span<double> x)
    {
        double w = 2 * VectorOps.Dot(v, x);
        if (w != 0) VectorOps.AddScaled(x, -w, v);
    }
}
