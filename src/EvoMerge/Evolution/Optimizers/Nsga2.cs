namespace EvoMerge.Evolution.Optimizers;

/// <summary>
/// NSGA-II (Deb, Pratap, Agarwal &amp; Meyarivan 2002) on the unit box: parents chosen by binary tournament on
/// (front rank, crowding distance), children by SBX crossover and polynomial mutation, and the next population the
/// best half of parents ∪ children by non-dominated sorting, ties on the last front broken by crowding distance.
/// Settings of the paper: crossover probability 0.9, η_c = 20, mutation probability 1/n, η_m = 20.
/// A NaN objective counts as +∞ (worst).
/// </summary>
public sealed class Nsga2 : IMultiObjectiveOptimizer
{
    /// <summary>Optuna's NSGAIISampler default.</summary>
    public const int DefaultPopulationSize = 50;
    const double CrossoverProbability = 0.9, CrossoverEta = 20, MutationEta = 20;

    readonly SeededRandom _random;
    readonly double[]? _initial;
    readonly List<ParetoPoint> _front = [];
    double[][] _population = [];
    double[][] _populationObjectives = [];
    int[] _rank = [];
    double[] _crowding = [];
    double[][]? _pending;

    public Nsga2(int dimension, int objectiveCount, OptimizerOptions options)
    {
        UnitBox.Validate(dimension, options, minimumPopulation: 2);
        if (objectiveCount < 1)
            throw new EvoMergeException($"fitness: {objectiveCount} objectives; expected at least 1");
        Dimension = dimension;
        ObjectiveCount = objectiveCount;
        PopulationSize = options.PopulationSize ?? DefaultPopulationSize;
        _initial = options.Initial;
        _random = new SeededRandom(options.Seed);
    }

    public int Dimension { get; }
    public int ObjectiveCount { get; }
    public int PopulationSize { get; }
    public int Generation { get; private set; }

    public IReadOnlyList<double[]> Ask()
    {
        _pending ??= Generation == 0 ? InitialPopulation() : Offspring();
        return _pending.Select(x => (double[])x.Clone()).ToArray();
    }

    double[][] InitialPopulation() => Enumerable.Range(0, PopulationSize)
        .Select(i => i == 0 && _initial != null ? (double[])_initial.Clone() : UnitBox.Uniform(Dimension, _random))
        .ToArray();

    double[][] Offspring()
    {
        var children = new List<double[]>(PopulationSize + 1);
        while (children.Count < PopulationSize)
        {
            double[] a = _population[Tournament()], b = _population[Tournament()];
            var (first, second) = _random.Uniform() <= CrossoverProbability
                ? RealVariation.Crossover(a, b, CrossoverEta, _random)
                : ((double[])a.Clone(), (double[])b.Clone());
            foreach (var child in new[] { first, second })
            {
                RealVariation.Mutate(child, 1.0 / Dimension, MutationEta, _random);
                children.Add(child);
            }
        }
        return children.Take(PopulationSize).ToArray();
    }

    /// <summary>Binary tournament by the crowded-comparison operator: lower rank wins, then larger crowding distance.</summary>
    int Tournament()
    {
        int a = _random.Index(_population.Length), b = _random.Index(_population.Length);
        if (_rank[a] != _rank[b]) return _rank[a] < _rank[b] ? a : b;
        return _crowding[b] > _crowding[a] ? b : a;
    }

    public void Tell(IReadOnlyList<double[]> objectives)
    {
        UnitBox.CheckTold(_pending, PopulationSize, objectives);
        var told = objectives.Select(o =>
        {
            if (o.Length != ObjectiveCount)
                throw new ArgumentException($"Tell got {o.Length} objectives for a candidate; expected {ObjectiveCount}");
            return o.Select(v => double.IsNaN(v) ? double.PositiveInfinity : v).ToArray();
        }).ToArray();
        for (int i = 0; i < told.Length; i++) AddToFront(_pending![i], told[i]);

        SelectSurvivors(_population.Concat(_pending!).ToArray(), _populationObjectives.Concat(told).ToArray());
        _pending = null;
        Generation++;
    }

    /// <summary>Keeps the best <see cref="PopulationSize"/> of parents ∪ children, front by front.</summary>
    void SelectSurvivors(double[][] genomes, double[][] objectives)
    {
        var survivors = new List<int>(PopulationSize);
        var rank = new List<int>(PopulationSize);
        var crowding = new List<double>(PopulationSize);
        var fronts = ParetoRanking.NonDominatedFronts(objectives);
        for (int f = 0; f < fronts.Count && survivors.Count < PopulationSize; f++)
        {
            var distances = ParetoRanking.CrowdingDistances(objectives, fronts[f]);
            var order = Enumerable.Range(0, fronts[f].Count).ToArray();
            if (survivors.Count + order.Length > PopulationSize)   // the last front that fits only in part
                order = order.OrderByDescending(i => distances[i]).ThenBy(i => i).Take(PopulationSize - survivors.Count).ToArray();
            foreach (int i in order)
            {
                survivors.Add(fronts[f][i]);
                rank.Add(f);
                crowding.Add(distances[i]);
            }
        }
        _population = survivors.Select(i => genomes[i]).ToArray();
        _populationObjectives = survivors.Select(i => objectives[i]).ToArray();
        _rank = rank.ToArray();
        _crowding = crowding.ToArray();
    }

    /// <summary>
    /// Keeps the archive of every non-dominated point evaluated so far (duplicates of an objective vector once).
    /// A candidate with a failed (non-finite) objective is never part of the front, however good its others are.
    /// </summary>
    void AddToFront(double[] genome, double[] objectives)
    {
        if (!objectives.All(double.IsFinite)) return;
        foreach (var point in _front)
            if (ParetoRanking.Dominates(point.Objectives, objectives) || point.Objectives.AsSpan().SequenceEqual(objectives))
                return;
        _front.RemoveAll(point => ParetoRanking.Dominates(objectives, point.Objectives));
        _front.Add(new ParetoPoint((double[])genome.Clone(), objectives));
    }

    /// <summary>The non-dominated candidates of all generations so far, sorted by the first objective.</summary>
    public IReadOnlyList<ParetoPoint> ParetoFront() => _front
        .OrderBy(p => p.Objectives[0])
        .Select(p => new ParetoPoint((double[])p.Genome.Clone(), (double[])p.Objectives.Clone()))
        .ToArray();

    public OptimizerSnapshot Snapshot() => new("nsga-ii", Generation, new Dictionary<string, object>
    {
        ["population_size"] = PopulationSize,
        ["population"] = _population.Select(x => x.ToArray()).ToArray(),
        // +∞ (a failed or NaN objective) is not valid JSON: written as null
        ["population_objectives"] = _populationObjectives.Select(Finite).ToArray(),
        ["pareto_front_size"] = _front.Count,
    });

    static double?[] Finite(double[] values) => values.Select(v => double.IsFinite(v) ? v : (double?)null).ToArray();
}
