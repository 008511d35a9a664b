namespace EvoMerge.Evolution.Optimizers;

/// <summary>
/// CMA-ES as in Hansen's tutorial ("The CMA Evolution Strategy: A Tutorial", arXiv:1604.00772): weighted
/// recombination, cumulative step-size adaptation, rank-one and rank-μ covariance updates with the negative
/// weights of active CMA (the same variant as the <c>cmaes</c> library behind Optuna). With a diagonal covariance
/// it is sep-CMA-ES (Ros &amp; Hansen 2008).
/// <para>
/// Box bounds by a transform (<see cref="BoxTransform"/>): the distribution lives in unbounded space and each
/// candidate handed out is its image in [0,1]^n; the update uses the unbounded point. We do not repair by
/// resampling then clipping as <c>cmaes</c>/Optuna do: with the optimum on a face of the box (a merge weight or
/// density of exactly 0 or 1), the truncated samples bias every step towards the face, the evolution path grows
/// and σ diverges. On a 6-D sphere centred outside the box, cmaes 0.9.1 blew σ up to 7·10³ and 2·10⁴ in two of five
/// seeds; this transform converges on the face.
/// </para>
/// </summary>
public sealed class CmaEs : IOptimizer
{
    // Stop criteria, values of the tutorial (appendix B.3) and cmaes
    const double TolFun = 1e-12, TolXFactor = 1e-12, TolXUp = 1e4, MaxCondition = 1e14;

    readonly CmaParameters _p;
    readonly ICovariance _c;
    readonly SeededRandom _random;
    readonly bool _diagonal;
    readonly double _tolX;
    readonly double[] _mean, _pSigma, _pc;
    readonly double[] _fitnessRange;   // best and worst of the last generations, a ring buffer for TolFun
    double _sigma;
    double[][]? _pending;

    public CmaEs(int dimension, OptimizerOptions options, bool diagonal = false)
    {
        UnitBox.Validate(dimension, options, minimumPopulation: 2);
        int lambda = options.PopulationSize ?? CmaParameters.DefaultPopulationSize(dimension);
        _p = diagonal ? CmaParameters.Separable(dimension, lambda) : CmaParameters.Full(dimension, lambda);
        _c = diagonal ? new DiagonalCovariance(dimension) : new FullCovariance(dimension, _p.C1, _p.Cmu);
        _diagonal = diagonal;
        _random = new SeededRandom(options.Seed);
        _mean = options.Initial?.Select(BoxTransform.FromBox).ToArray() ?? Enumerable.Repeat(0.5, dimension).ToArray();
        _sigma = options.Sigma0;
        _tolX = TolXFactor * options.Sigma0;
        _pSigma = new double[dimension];
        _pc = new double[dimension];
        _fitnessRange = new double[2 * (10 + (int)Math.Ceiling(30.0 * dimension / lambda))];
    }

    public int Dimension => _p.Dimension;
    public int PopulationSize => _p.PopulationSize;
    public int Generation { get; private set; }
    public bool IsConverged { get; private set; }

    /// <summary>The current step size σ (unit-box coordinates).</summary>
    public double Sigma => _sigma;

    /// <summary>The current mean of the search distribution, in box coordinates.</summary>
    public IReadOnlyList<double> Mean => BoxTransform.ToBox(_mean);

    internal CmaParameters Parameters => _p;

    /// <summary>The generation's candidates in box coordinates (the unbounded points stay pending until Tell).</summary>
    public IReadOnlyList<double[]> Ask()
    {
        _pending ??= Enumerable.Range(0, PopulationSize).Select(_ => Sample()).ToArray();
        return _pending.Select(BoxTransform.ToBox).ToArray();
    }

    double[] Sample()
    {
        int n = Dimension;
        var z = new double[n];
        var y = new double[n];
        for (int i = 0; i < n; i++) z[i] = _random.StandardNormal();
        _c.Scale(z, y);                                                       // y ~ N(0, C)
        for (int i = 0; i < n; i++) y[i] = _mean[i] + _sigma * y[i];          // x ~ N(m, σ²C)
        return y;
    }

    public void Tell(IReadOnlyList<double> fitness)
    {
        UnitBox.CheckTold(_pending, PopulationSize, fitness);
        var candidates = _pending!;
        _pending = null;
        Generation++;
        int n = Dimension;
        int[] order = UnitBox.BestFirst(fitness);
        RecordFitnessRange(fitness[order[0]], fitness[order[^1]]);

        // Steps y_k = (x_k − m) / σ, best first
        var y = order.Select(k =>
        {
            var step = new double[n];
            for (int i = 0; i < n; i++) step[i] = (candidates[k][i] - _mean[i]) / _sigma;
            return step;
        }).ToArray();

        // Selection and recombination (eq. 41–42, c_m = 1)
        var yw = new double[n];
        for (int k = 0; k < _p.Mu; k++)
            for (int i = 0; i < n; i++) yw[i] += _p.Weights[k] * y[k][i];
        for (int i = 0; i < n; i++) _mean[i] += _sigma * yw[i];

        // Cumulative step-size adaptation (eq. 43–44)
        var whitened = new double[n];
        _c.Whiten(yw, whitened);
        double cs = _p.CSigma;
        double pathScale = Math.Sqrt(cs * (2 - cs) * _p.MuEff);
        for (int i = 0; i < n; i++) _pSigma[i] = (1 - cs) * _pSigma[i] + pathScale * whitened[i];
        double pSigmaNorm = Norm(_pSigma);
        _sigma *= Math.Exp(cs / _p.DSigma * (pSigmaNorm / _p.ChiN - 1));

        // Rank-one path, stalled while ‖pσ‖ is large (h_σ, p. 28)
        bool hSigma = pSigmaNorm / Math.Sqrt(1 - Math.Pow(1 - cs, 2 * Generation)) < (1.4 + 2.0 / (n + 1)) * _p.ChiN;
        double cc = _p.Cc;
        double pcScale = hSigma ? Math.Sqrt(cc * (2 - cc) * _p.MuEff) : 0;
        for (int i = 0; i < n; i++) _pc[i] = (1 - cc) * _pc[i] + pcScale * yw[i];

        // Covariance update (eq. 46–47): negative weights rescaled by n / ‖C^−½ y‖² so that long steps do not
        // shrink C too much
        var weights = new double[PopulationSize];
        for (int k = 0; k < PopulationSize; k++)
        {
            weights[k] = _p.Weights[k];
            if (weights[k] < 0)
            {
                _c.Whiten(y[k], whitened);
                weights[k] *= n / Math.Max(SquaredNorm(whitened), 1e-300);
            }
        }
        double deltaH = hSigma ? 0 : cc * (2 - cc);
        double decay = 1 + _p.C1 * deltaH - _p.C1 - _p.Cmu * _p.Weights.Sum();
        _c.Update(decay, _p.C1, _pc, _p.Cmu, y, weights);

        IsConverged = MeetsStopCriterion();
    }

    void RecordFitnessRange(double best, double worst)
    {
        int slot = 2 * (Generation % (_fitnessRange.Length / 2));
        _fitnessRange[slot] = best;
        _fitnessRange[slot + 1] = worst;
    }

    /// <summary>The tutorial's and cmaes' termination criteria; any one stops this run (or triggers an IPOP restart).</summary>
    bool MeetsStopCriterion()
    {
        int n = Dimension;
        // TolFun: best and worst values of the last 10 + ⌈30n/λ⌉ generations lie within 1e-12
        if (Generation > _fitnessRange.Length / 2 && _fitnessRange.Max() - _fitnessRange.Min() < TolFun) return true;

        // TolX: the distribution and the evolution path are below 1e-12·σ₀ in every coordinate
        bool tiny = true;
        for (int i = 0; i < n && tiny; i++)
            tiny = _sigma * Math.Sqrt(_c.Variance(i)) < _tolX && _sigma * Math.Abs(_pc[i]) < _tolX;
        if (tiny) return true;

        var (minAxis, maxAxis) = _c.AxisLengths();
        if (_sigma * maxAxis > TolXUp) return true;                                   // divergence
        if (maxAxis * maxAxis / (minAxis * minAxis) > MaxCondition) return true;       // cond(C)

        // NoEffectCoord: adding 0.2 standard deviations in a coordinate does not change the mean
        for (int i = 0; i < n; i++)
            if (_mean[i] == _mean[i] + 0.2 * _sigma * Math.Sqrt(_c.Variance(i))) return true;

        // NoEffectAxis: adding 0.1 standard deviations along principal axis (generation mod n) changes nothing
        var axis = new double[n];
        _c.PrincipalAxis(Generation % n, axis);
        bool noEffect = true;
        for (int i = 0; i < n && noEffect; i++) noEffect = _mean[i] == _mean[i] + 0.1 * _sigma * axis[i];
        return noEffect;
    }

    public OptimizerSnapshot Snapshot() => new(_diagonal ? "cma-es-diagonal" : "cma-es", Generation, new Dictionary<string, object>
    {
        ["population_size"] = PopulationSize,
        ["mean"] = BoxTransform.ToBox(_mean),
        ["mean_unbounded"] = _mean.ToArray(),
        ["sigma"] = _sigma,
        ["p_sigma"] = _pSigma.ToArray(),
        ["p_c"] = _pc.ToArray(),
        [_diagonal ? "covariance_diagonal" : "covariance"] = _c.Snapshot(),
        ["converged"] = IsConverged,
    });

    static double SquaredNorm(ReadOnlySpan<double> v)
    {
        double sum = 0;
        foreach (double x in v) sum += x * x;
        return sum;
    }

    static double Norm(ReadOnlySpan<double> v) => Math.Sqrt(SquaredNorm(v));
}
