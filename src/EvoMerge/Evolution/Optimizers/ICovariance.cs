namespace EvoMerge.Evolution.Optimizers;

/// <summary>
/// The covariance matrix C of CMA-ES's sampling distribution N(m, σ²C): full (<see cref="FullCovariance"/>) or
/// diagonal (<see cref="DiagonalCovariance"/>, sep-CMA-ES). Everything else of the algorithm is shared.
/// </summary>
internal interface ICovariance
{
    /// <summary>y = C^½ z: turns a standard normal vector into a sample of N(0, C).</summary>
    void Scale(ReadOnlySpan<double> z, Span<double> y);

    /// <summary>C^−½ y, for step-size control and the active (negative-weight) update.</summary>
    void Whiten(ReadOnlySpan<double> y, Span<double> result);

    /// <summary>C ← decay·C + c1·pc pcᵀ + cμ·Σ wᵢ yᵢ yᵢᵀ (tutorial eq. 47).</summary>
    void Update(double decay, double c1, ReadOnlySpan<double> pc, double cmu, IReadOnlyList<double[]> y, ReadOnlySpan<double> weights);

    /// <summary>C_ii.</summary>
    double Variance(int i);

    /// <summary>Square roots of the smallest and largest eigenvalues of C (principal axis lengths).</summary>
    (double Min, double Max) AxisLengths();

    /// <summary>Principal axis i scaled by its length (D_i·B_{:,i}).</summary>
    void PrincipalAxis(int i, Span<double> axis);

    /// <summary>C as JSON-serialisable arrays.</summary>
    object Snapshot();
}
