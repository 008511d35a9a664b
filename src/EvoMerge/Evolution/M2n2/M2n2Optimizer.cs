using EvoMerge.Evolution.Optimizers;
using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Recipes;

namespace EvoMerge.Evolution.M2n2;

/// <summary>
/// M2N2 (Abrantes et al., "Competition and Attraction Improve Model Fusion", GECCO 2025), steady state: the archive
/// holds blends of the sources; <see cref="Ask"/> draws parent 1 by shared fitness and parent 2 by attraction to it,
/// slerps them with a split point (<see cref="SplitSlerp"/>), and returns the child; <see cref="Tell"/> puts a scored
/// child in the slot of the worst member unless it is the worst itself (<see cref="Niches"/>). The first asks are the
/// sources themselves. Asks draw from a seeded generator and tells are deterministic, so the same seed and the same
/// sequence of asks and tells give the same archive bit for bit: a journal replays to it.
/// </summary>
public sealed class M2n2Optimizer
{
    readonly M2n2Config _settings;
    readonly IReadOnlyList<string> _models;
    readonly SourceGeometry _geometry;
    readonly SeededRandom _random;
    readonly Dictionary<int, M2n2Child> _children = new();
    readonly Dictionary<int, double[]> _rewards = new();
    readonly int?[] _slots;
    double[]? _values;
    int[][]? _items;

    public M2n2Optimizer(M2n2Config settings, IReadOnlyList<string> models, SourceGeometry geometry, int seed)
    {
        if (settings.ArchiveSize < models.Count)
            throw new EvoMergeException($"optimizer.archive_size: {settings.ArchiveSize} slots cannot hold the {models.Count} sources");
        if (geometry.SourceCount != models.Count) throw new ArgumentException("the geometry must be over the models", nameof(geometry));
        _settings = settings;
        _models = models;
        _geometry = geometry;
        _random = new SeededRandom(seed);
        _slots = new int?[settings.ArchiveSize];
    }

    public M2n2Config Settings => _settings;
    public FlatOrder Order => _geometry.Order;
    public int Asked { get; private set; }
    public int Told { get; private set; }

    /// <summary>Whether a child can be drawn now: the sources come first, and children need a member in the archive.</summary>
    public bool CanAsk => Asked < _models.Count || _slots.Any(s => s != null);

    /// <summary>Every child asked so far, by id (lineage for the report).</summary>
    public IReadOnlyDictionary<int, M2n2Child> Children => _children;

    /// <summary>The archive's slots: the id of the member in each, or null while empty.</summary>
    public IReadOnlyList<int?> Slots => _slots;

    /// <summary>Each item's resource value (null before the first tell).</summary>
    public IReadOnlyList<double>? Values => _values;

    public double[] RewardsOf(int id) => _rewards[id];

    public M2n2Child Ask()
    {
        if (!CanAsk) throw new InvalidOperationException("M2N2 cannot draw parents before a source has been told");
        int id = Asked++;
        M2n2Child child;
        if (id < _models.Count) child = new M2n2Child(id, BlendRecipe.Source(_models, id), [], null, null);
        else
        {
            var shares = Shares();
            var fitness = Niches.Fitness(shares);
            int first = Niches.Draw(fitness, _random.Uniform()) ?? AnyMember();
            double u = _random.Uniform();
            int second = (_settings.Attraction ? Niches.Draw(Niches.Attraction(shares, first), u) : null)
                ?? Niches.Draw(fitness, u) ?? AnyMember();
            double w = _random.Uniform();
            long? split = _settings.SplitPoints switch
            {
                SplitPoints.Parameter => Math.Min(Order.Total - 1, (long)(_random.Uniform() * Order.Total)),
                SplitPoints.Tensor => Order.Tensors[_random.Index(Order.Tensors.Count)].Offset,
                _ => null,
            };
            int p1 = _slots[first]!.Value, p2 = _slots[second]!.Value;
            var recipe = SplitSlerp.Child(_children[p1].Recipe, _children[p2].Recipe, w, split, _geometry);
            if (_settings.Mutation) recipe = Mutate(recipe);
            child = new M2n2Child(id, recipe, [p1, p2], w, split);
        }
        _children[id] = child;
        return child;
    }

    /// <summary>
    /// Files a scored child: <paramref name="rewards"/> per item in [0, 1], <paramref name="values"/> each item's
    /// resource value (the same items, in the same order, for every child). Returns the slot it took, or −1.
    /// </summary>
    public int Tell(int id, int[][] items, double[] rewards, double[] values)
    {
        if (!_children.ContainsKey(id) || _rewards.ContainsKey(id)) throw new InvalidOperationException($"child {id} was not asked, or was told already");
        if (_values is null) (_values, _items) = (values, items);
        else if (!items.Zip(_items!).All(p => p.First.AsSpan().SequenceEqual(p.Second)) || items.Length != _items!.Length)
            throw new EvoMergeException("m2n2: every candidate must be scored on the same items (fitness sharing compares them item by item)");
        _rewards[id] = rewards;
        int slot = Niches.Replaced(SlotRewards(), rewards, _values, _settings.Alpha);
        if (slot >= 0) _slots[slot] = id;
        Told++;
        return slot;
    }

    /// <summary>Σᵢ vᵢ·maxₘ rₘᵢ / Σᵢ vᵢ: the value-weighted share of items the archive solves (for 0/1 items with one task, the fraction solved by some member).</summary>
    public double Coverage()
    {
        if (_values is null) return 0;
        double covered = 0;
        for (int i = 0; i < _values.Length; i++)
            covered += _values[i] * _slots.Where(s => s != null).Select(s => _rewards[s!.Value][i]).DefaultIfEmpty(0).Max();
        return covered / _values.Sum();
    }

    /// <summary>Shared fitness of each slot's member (0 for an empty slot).</summary>
    public double[] SharedFitness() => _values is null ? new double[_slots.Length] : Niches.Fitness(Shares());

    double[][] Shares() => Niches.Shares(SlotRewards(), _values!, _settings.Alpha);

    List<double[]> SlotRewards() => _slots.Select(s => s is int id ? _rewards[id] : new double[_values!.Length]).ToList();

    /// <summary>Where every member earns nothing the reference code would divide by zero; here any member is drawn uniformly.</summary>
    int AnyMember()
    {
        var occupied = Enumerable.Range(0, _slots.Length).Where(i => _slots[i] != null).ToList();
        return occupied[_random.Index(occupied.Count)];
    }

    BlendRecipe Mutate(BlendRecipe recipe) => recipe with
    {
        Segments = recipe.Segments.Select(s => new BlendSegment(s.Start,
            s.Coefficients.Select(c => c + _settings.MutationStd * _random.StandardNormal()).ToArray())).ToList(),
    };
}

/// <summary>One asked child: its blend and where it came from.</summary>
/// <param name="Parents">Ids of parent 1 and parent 2 (empty for a source).</param>
/// <param name="Weight">The slerp factor w before the split point (1 − w after).</param>
/// <param name="Split">The split point in the flattened parameter order (null for a source or without split points).</param>
public sealed record M2n2Child(int Id, BlendRecipe Recipe, int[] Parents, double? Weight, long? Split);
