namespace EvoMerge.Evolution.Optimizers;

/// <summary>
/// The strategy constants of CMA-ES for dimension n and population λ: recombination weights and learning rates.
/// <see cref="Full"/> follows Hansen's tutorial ("The CMA Evolution Strategy: A Tutorial", arXiv:1604.00772,
/// eqs. 48–58 and Table 1) including the negative weights of active CMA; <see cref="Separable"/> follows Ros &amp;
/// Hansen 2008 ("A Simple Modification in CMA-ES Achieving Linear Time and Space Complexity"), which only learns
/// the diagonal of C and may therefore learn it (n+2)/3 times faster.
/// </summary>
internal sealed record CmaParameters(
    int Dimension,
    int PopulationSize,
    int Mu,
    double[] Weights,   // λ entries, sorted best first; the first μ are positive and sum to 1
    double MuEff,
    double CSigma,
    double DSigma,
    double Cc,
    double C1,
    double Cmu)
{
    /// <summary>E‖N(0, I)‖, the expected length of a standard normal vector (tutorial p. 28).</summary>
    public double ChiN { get; } = Math.Sqrt(Dimension) * (1 - 1.0 / (4 * Dimension) + 1.0 / (21.0 * Dimension * Dimension));

    /// <summary>The tutorial's default population, 4 + ⌊3 ln n⌋ (eq. 48); also Optuna's.</summary>
    public static int DefaultPopulationSize(int dimension) => 4 + (int)Math.Floor(3 * Math.Log(dimension));

    public static CmaParameters Full(int n, int lambda)
    {
        int mu = lambda / 2;
        // eq. 49: w'_i = ln((λ+1)/2) − ln i; the first μ are positive, the rest negative (active CMA)
        var raw = new double[lambda];
        for (int i = 0; i < lambda; i++) raw[i] = Math.Log((lambda + 1) / 2.0) - Math.Log(i + 1);
        double muEff = EffectiveMass(raw.AsSpan(0, mu));
        double muEffMinus = EffectiveMass(raw.AsSpan(mu));

        const double alphaCov = 2;
        double c1 = alphaCov / ((n + 1.3) * (n + 1.3) + muEff);                                         // eq. 57
        double cmu = Math.Min(1 - c1,
            alphaCov * (muEff - 2 + 1 / muEff) / ((n + 2) * (n + 2) + alphaCov * muEff / 2));        // eq. 58

        // eq. 50–53: scale the negative weights so that C stays positive definite and the decrease is bounded
        double alphaMinus = Math.Min(1 + c1 / cmu,
            Math.Min(1 + 2 * muEffMinus / (muEff + 2), (1 - c1 - cmu) / (n * cmu)));
        double positiveSum = 0, negativeSum = 0;
        foreach (double w in raw)
            if (w >= 0) positiveSum += w; else negativeSum -= w;
        var weights = new double[lambda];
        for (int i = 0; i < lambda; i++)
            weights[i] = raw[i] >= 0 ? raw[i] / positiveSum : alphaMinus * raw[i] / negativeSum;

        double cSigma = (muEff + 2) / (n + muEff + 5);                                                  // eq. 55
        double dSigma = 1 + 2 * Math.Max(0, Math.Sqrt((muEff - 1) / (n + 1)) - 1) + cSigma;
        double cc = (4 + muEff / n) / (n + 4 + 2 * muEff / n);                                          // eq. 56
        return new CmaParameters(n, lambda, mu, weights, muEff, cSigma, dSigma, cc, c1, cmu);
    }

    public static CmaParameters Separable(int n, int lambda)
    {
        int mu = lambda / 2;
        // Ros & Hansen 2008, section 2: positive weights w_i ∝ ln(μ+1) − ln i on the μ best, zero on the rest
        var weights = new double[lambda];
        double sum = 0;
        for (int i = 0; i < mu; i++) sum += weights[i] = Math.Log(mu + 1) - Math.Log(i + 1);
        for (int i = 0; i < mu; i++) weights[i] /= sum;
        double muEff = EffectiveMass(weights.AsSpan(0, mu));

        // c_cov of the full algorithm (μ_cov = μ_eff), then ×(n+2)/3 because only n variances are learned
        double cCov = 2 / muEff / ((n + Math.Sqrt(2)) * (n + Math.Sqrt(2)))
                      + (1 - 1 / muEff) * Math.Min(1, (2 * muEff - 1) / ((n + 2) * (n + 2) + muEff));
        cCov = Math.Min(1, cCov * (n + 2) / 3.0);
        double c1 = cCov / muEff;
        double cmu = cCov * (1 - 1 / muEff);

        double cSigma = (muEff + 2) / (n + muEff + 3);
        double dSigma = 1 + 2 * Math.Max(0, Math.Sqrt((muEff - 1) / (n + 1)) - 1) + cSigma;
        double cc = 4.0 / (n + 4);
        return new CmaParameters(n, lambda, mu, weights, muEff, cSigma, dSigma, cc, c1, cmu);
    }

    /// <summary>(Σ w)² / Σ w², the variance effective selection mass of a set of weights.</summary>
    static double EffectiveMass(ReadOnlySpan<double> weights)
    {
        double sum = 0, squares = 0;
        foreach (double w in weights) { sum += w; squares += w * w; }
        return sum * sum / squares;
    }
}
