using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace EvoMerge.Evolution.Optimizers;

/// <summary>
/// A full C with its eigen decomposition C = B·D²·Bᵀ (MathNet's symmetric EVD), which gives C^½ = B·D and
/// C^−½ = B·D⁻¹·Bᵀ. As in the tutorial (p. 37), the decomposition is refreshed only every
/// max(1, ⌊1 / (10·n·(c1 + cμ))⌋) updates, so its O(n³) cost stays below the O(λn²) of the update itself.
/// </summary>
internal sealed class FullCovariance : ICovariance
{
    // Eigenvalues below this (rounding can make them ≤ 0) are raised to it so that C^−½ exists.
    const double MinEigenvalue = 1e-20;

    readonly int _n;
    readonly int _updatesPerDecomposition;
    readonly double[] _c;   // row-major n×n, symmetric
    readonly double[] _b;   // row-major: column j is the j-th eigenvector
    readonly double[] _d;   // square roots of the eigenvalues
    int _updatesSinceDecomposition;

    public FullCovariance(int dimension, double c1, double cmu)
    {
        _n = dimension;
        _updatesPerDecomposition = Math.Max(1, (int)Math.Floor(1 / (10 * dimension * (c1 + cmu))));
        _c = new double[dimension * dimension];
        _b = new double[dimension * dimension];
        _d = new double[dimension];
        for (int i = 0; i < dimension; i++) _c[i * dimension + i] = _b[i * dimension + i] = _d[i] = 1;
    }

    public void Scale(ReadOnlySpan<double> z, Span<double> y)
    {
        for (int i = 0; i < _n; i++)
        {
            double sum = 0;
            for (int j = 0; j < _n; j++) sum += _b[i * _n + j] * _d[j] * z[j];
            y[i] = sum;
        }
    }

    public void Whiten(ReadOnlySpan<double> y, Span<double> result)
    {
        Span<double> rotated = _n <= 256 ? stackalloc double[_n] : new double[_n];
        for (int j = 0; j < _n; j++)
        {
            double sum = 0;
            for (int i = 0; i < _n; i++) sum += _b[i * _n + j] * y[i];
            rotated[j] = sum / _d[j];
        }
        for (int i = 0; i < _n; i++)
        {
            double sum = 0;
            for (int j = 0; j < _n; j++) sum += _b[i * _n + j] * rotated[j];
            result[i] = sum;
        }
    }

    public void Update(double decay, double c1, ReadOnlySpan<double> pc, double cmu, IReadOnlyList<double[]> y, ReadOnlySpan<double> weights)
    {
        for (int i = 0; i < _n; i++)
            for (int j = i; j < _n; j++)
            {
                double rankMu = 0;
                for (int k = 0; k < y.Count; k++) rankMu += weights[k] * y[k][i] * y[k][j];
                double value = decay * _c[i * _n + j] + c1 * pc[i] * pc[j] + cmu * rankMu;
                _c[i * _n + j] = _c[j * _n + i] = value;
            }
        if (++_updatesSinceDecomposition >= _updatesPerDecomposition) Decompose();
    }

    void Decompose()
    {
        _updatesSinceDecomposition = 0;
        var evd = Matrix<double>.Build.Dense(_n, _n, (i, j) => _c[i * _n + j]).Evd(Symmetricity.Symmetric);
        for (int j = 0; j < _n; j++)
        {
            _d[j] = Math.Sqrt(Math.Max(evd.EigenValues[j].Real, MinEigenvalue));
            for (int i = 0; i < _n; i++) _b[i * _n + j] = evd.EigenVectors[i, j];
        }
    }

    public double Variance(int i) => _c[i * _n + i];

    public (double Min, double Max) AxisLengths() => (_d.Min(), _d.Max());

    public void PrincipalAxis(int i, Span<double> axis)
    {
        for (int k = 0; k < _n; k++) axis[k] = _d[i] * _b[k * _n + i];
    }

    public object Snapshot()
    {
        var rows = new double[_n][];
        for (int i = 0; i < _n; i++) rows[i] = _c.AsSpan(i * _n, _n).ToArray();
        return rows;
    }
}
