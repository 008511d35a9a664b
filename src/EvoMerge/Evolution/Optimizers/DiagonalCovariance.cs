namespace EvoMerge.Evolution.Optimizers;

/// <summary>
/// A diagonal C (sep-CMA-ES, Ros &amp; Hansen 2008): O(n) time and memory per sample and update, for long genomes
/// (per-layer merge weights of several models) where the full matrix would learn too slowly and cost O(n²).
/// </summary>
internal sealed class DiagonalCovariance : ICovariance
{
    readonly double[] _variances;

    public DiagonalCovariance(int dimension) => _variances = Enumerable.Repeat(1.0, dimension).ToArray();

    public void Scale(ReadOnlySpan<double> z, Span<double> y)
    {
        for (int i = 0; i < z.Length; i++) y[i] = Math.Sqrt(_variances[i]) * z[i];
    }

    public void Whiten(ReadOnlySpan<double> y, Span<double> result)
    {
        for (int i = 0; i < y.Length; i++) result[i] = y[i] / Math.Sqrt(_variances[i]);
    }

    public void Update(double decay, double c1, ReadOnlySpan<double> pc, double cmu, IReadOnlyList<double[]> y, ReadOnlySpan<double> weights)
    {
        for (int i = 0; i < _variances.Length; i++)
        {
            double rankMu = 0;
            for (int k = 0; k < y.Count; k++) rankMu += weights[k] * y[k][i] * y[k][i];
            _variances[i] = decay * _variances[i] + c1 * pc[i] * pc[i] + cmu * rankMu;
        }
    }

    public double Variance(int i) => _variances[i];

    public (double Min, double Max) AxisLengths() => (Math.Sqrt(_variances.Min()), Math.Sqrt(_variances.Max()));

    public void PrincipalAxis(int i, Span<double> axis)
    {
        axis.Clear();
        axis[i] = Math.Sqrt(_variances[i]);
    }

    public object Snapshot() => (double[])_variances.Clone();
}
