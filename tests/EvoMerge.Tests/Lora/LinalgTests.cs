using EvoMerge.Lora.Linalg;
using MathNet.Numerics.LinearAlgebra;

namespace EvoMerge.Tests.Lora;

/// <summary>The hand-written kernels of LoRA extraction against naive loops and MathNet's dense SVD.</summary>
public class LinalgTests
{
    static float[] Random(int length, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    [Theory]
    [InlineData(7, 13, 5, false)]   // every size below one tile: scalar paths only
    [InlineData(70, 300, 33, false)] // tiles, row and column tails, two inner blocks
    [InlineData(70, 300, 33, true)]  // the same through the transposed strides
    [InlineData(129, 5, 16, true)]
    public void Product_equals_naive_loops(int rows, int inner, int cols, bool transposed)
    {
        var a = Random(rows * inner, 1);
        var b = Random(inner * cols, 2);
        var c = Random(rows * cols, 3);
        var expected = new double[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < cols; j++)
            {
                double sum = c[r * cols + j];
                for (int l = 0; l < inner; l++) sum += (double)(transposed ? a[l * rows + r] : a[r * inner + l]) * b[l * cols + j];
                expected[r * cols + j] = sum;
            }
        if (transposed) MatrixProduct.MultiplyAdd(a, rows, inner, 1, rows, b, cols, c, threads: 2);
        else MatrixProduct.MultiplyAdd(a, rows, inner, inner, 1, b, cols, c, threads: 2);
        for (int i = 0; i < c.Length; i++) Assert.True(Math.Abs(c[i] - expected[i]) < 1e-4, $"[{i}] {c[i]} vs {expected[i]}");
    }

    [Fact]
    public void Householder_qr_stays_orthonormal_on_a_rank_deficient_matrix()
    {
        const int rows = 50, k = 6, stride = 16;
        var y = new float[rows * stride];
        var rng = new Random(4);
        for (int r = 0; r < rows; r++)
        {
            y[r * stride] = (float)rng.NextDouble();
            y[r * stride + 1] = 2 * y[r * stride];                 // dependent column
            y[r * stride + 3] = (float)rng.NextDouble() - 0.5f;    // column 2 stays zero
            y[r * stride + 4] = (float)rng.NextDouble();
            y[r * stride + 5] = y[r * stride + 3] - y[r * stride + 4];
        }
        var (q, rMatrix) = HouseholderQr.Factor(y, rows, k, stride);
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
            {
                double dot = 0;
                for (int r = 0; r < rows; r++) dot += (double)q[r * stride + i] * q[r * stride + j];
                Assert.True(Math.Abs(dot - (i == j ? 1 : 0)) < 1e-6, $"QᵀQ[{i},{j}] = {dot}");
            }
        for (int r = 0; r < rows; r++) // Q·R reproduces Y
            for (int j = 0; j < k; j++)
            {
                double sum = 0;
                for (int p = 0; p <= j; p++) sum += q[r * stride + p] * rMatrix[p * k + j];
                Assert.True(Math.Abs(sum - y[r * stride + j]) < 1e-5, $"(QR)[{r},{j}] = {sum} vs {y[r * stride + j]}");
            }
    }

    [Fact]
    public void Randomised_svd_finds_the_leading_singular_values_of_MathNets_full_svd()
    {
        const int rows = 300, cols = 200, rank = 10;
        // A = U diag(0.8^i) Vᵀ with random orthonormal U, V (MathNet QR), plus a small noise floor.
        var rng = new Random(5);
        var u = Matrix<double>.Build.Dense(rows, cols, (_, _) => rng.NextDouble() - 0.5).QR().Q.SubMatrix(0, rows, 0, cols);
        var v = Matrix<double>.Build.Dense(cols, cols, (_, _) => rng.NextDouble() - 0.5).QR().Q;
        var s = Matrix<double>.Build.DenseOfDiagonalArray(Enumerable.Range(0, cols).Select(i => Math.Pow(0.8, i) + 1e-4).ToArray());
        var a = u * s * v.Transpose();
        var exact = a.Svd(computeVectors: false).S;
        var data = new float[rows * cols];
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) data[i * cols + j] = (float)a[i, j];

        var svd = RandomizedSvd.Compute(data, rows, cols, rank + 10, powerIterations: 2, seed: 7, threads: 2);
        for (int i = 0; i < rank; i++)
            Assert.True(Math.Abs(svd.S[i] - exact[i]) < 1e-5 * exact[0], $"σ{i}: {svd.S[i]} vs {exact[i]}");
        // U·diag(S)·Vᵀ restricted to the top singular vectors reconstructs A's leading part: check one triplet's consistency, A v₀ = σ₀ u₀.
        for (int r = 0; r < rows; r++)
        {
            double av = 0;
            for (int c = 0; c < cols; c++) av += a[r, c] * svd.V[c * svd.Count];
            Assert.True(Math.Abs(av - svd.S[0] * svd.U[r * svd.Count]) < 1e-5, $"(A v₀)[{r}] = {av} vs σ₀u₀ = {svd.S[0] * svd.U[r * svd.Count]}");
        }
    }
}
