using EvoMerge.Anatomy;
using EvoMerge.Candidates;
using EvoMerge.Evolution.Config;
using EvoMerge.Merge.Recipes;

namespace EvoMerge.Evolution.Spaces;

/// <summary>
/// Parameter space: one coordinate per (tensor group, source model, evolved parameter), in that nesting order,
/// each mapped linearly from [0,1] onto the parameter's range. Weights are not normalised to sum to 1. A genome
/// decodes to a <see cref="MergeBuild"/>: the grouped recipe, the fixed globals and the run's mask seed.
/// </summary>
public sealed class PsSpace : ISearchSpace
{
    readonly PsConfig _config;

    /// <summary>ps.loras, or null when there are none (journals of runs without LoRAs stay as they were).</summary>
    IReadOnlyList<WeightedLora>? Loras => _config.Loras.Count > 0 ? _config.Loras : null;
    readonly string? _baseModel;
    readonly IReadOnlyList<string> _models;
    readonly ulong _mergeSeed;

    /// <param name="layerCount">Decoder layers of the (common) architecture of the sources.</param>
    /// <param name="mergeSeed">The DARE/DELLA mask seed of every candidate (the run's seed).</param>
    public PsSpace(PsConfig config, string? baseModel, IReadOnlyList<string> models, int layerCount, ulong mergeSeed = 0)
    {
        if (config.LayerGroups > layerCount)
            throw new EvoMergeException($"ps.layer_groups: {config.LayerGroups} groups asked but the models have {layerCount} layers");
        _config = config;
        _baseModel = baseModel;
        _models = models;
        _mergeSeed = mergeSeed;
        Groups = BuildGroups(config, layerCount);
        CoordinateNames = Groups
            .SelectMany(g => models.Select((_, m) => (g, m)))
            .SelectMany(gm => config.Parameters.Select(p => $"{gm.g.Name}/model {gm.m}/{p}"))
            .ToList();
        if (config.Start is { } start) Initial = Encode(StartRecipe(start));
    }

    public string Name => "ps";
    public IReadOnlyList<TensorGroup> Groups { get; }
    public int Dimension => CoordinateNames.Count;
    public double[]? Initial { get; }
    public IReadOnlyList<string> CoordinateNames { get; }

    public ModelBuild Decode(ReadOnlySpan<double> genome)
    {
        if (genome.Length != Dimension) throw new ArgumentException($"genome has {genome.Length} coordinates, the PS space {Dimension}");
        var ranges = _config.Parameters.Select(_config.RangeOf).ToArray();
        var values = new IReadOnlyList<double>[Groups.Count][];
        int i = 0;
        for (int g = 0; g < Groups.Count; g++)
        {
            values[g] = new IReadOnlyList<double>[_models.Count];
            for (int m = 0; m < _models.Count; m++)
            {
                var perParameter = new double[ranges.Length];
                for (int p = 0; p < ranges.Length; p++) perParameter[p] = ranges[p].FromUnit(genome[i++]);
                values[g][m] = perParameter;
            }
        }
        return Build(new GroupedRecipe(_config.Method, _baseModel, _models, _config.Parameters, Groups, values, _config.Components, Loras));
    }

    /// <summary>A naive recipe: the same value of each parameter for every group and model (a <c>ps.baselines</c> entry).</summary>
    public MergeBuild Uniform(IReadOnlyDictionary<string, double> values)
    {
        var perModel = _config.Parameters.Select(p => values[p]).ToArray();
        return Build(EveryGroup(_models.Select(_ => (IReadOnlyList<double>)perModel).ToList()));
    }

    MergeBuild Build(GroupedRecipe recipe) => new(recipe, _config.Globals, _mergeSeed);

    /// <summary>A recipe giving every group the same values: <paramref name="perModel"/>[model][parameter].</summary>
    GroupedRecipe EveryGroup(IReadOnlyList<IReadOnlyList<double>> perModel) =>
        new(_config.Method, _baseModel, _models, _config.Parameters, Groups, Groups.Select(_ => perModel).ToList(), _config.Components, Loras);

    GroupedRecipe StartRecipe(IReadOnlyList<IReadOnlyDictionary<string, double>> start)
    {
        if (start.Count != _models.Count)
            throw new EvoMergeException($"ps.start: {start.Count} entries for {_models.Count} models (one {{ parameter: value }} map per model)");
        var perModel = start.Select((values, m) => (IReadOnlyList<double>)_config.Parameters.Select(p =>
        {
            if (!values.TryGetValue(p, out double v))
                throw new EvoMergeException($"ps.start[{m}]: no value for '{p}' (the evolved parameters are {string.Join(", ", _config.Parameters)})");
            var range = _config.RangeOf(p);
            if (!(v >= range.Min && v <= range.Max))
                throw new EvoMergeException($"ps.start[{m}].{p}: {v} is outside its range [{range.Min}, {range.Max}]");
            return v;
        }).ToList()).ToList();
        return EveryGroup(perModel);
    }

    /// <summary>The genome that decodes to <paramref name="recipe"/> (tests, and seeding a search from a known recipe).</summary>
    public double[] Encode(GroupedRecipe recipe)
    {
        var genome = new double[Dimension];
        int i = 0;
        for (int g = 0; g < Groups.Count; g++)
            for (int m = 0; m < _models.Count; m++)
                for (int p = 0; p < _config.Parameters.Count; p++)
                    genome[i++] = _config.RangeOf(_config.Parameters[p]).ToUnit(recipe.Values[g][m][p]);
        return genome;
    }

    static List<TensorGroup> BuildGroups(PsConfig config, int layerCount)
    {
        bool separateEmbeddings = config.EmbeddingsGroup ?? (config.LayerGroups > 1 || config.SplitAttentionMlp);
        // The tensors outside the layers that travel with the embeddings: the head too, unless it has its own group.
        List<GroupPart> outside = config.HeadGroup ? [GroupPart.Embeddings] : [GroupPart.Embeddings, GroupPart.Head];
        var groups = new List<TensorGroup>();
        if (separateEmbeddings) groups.Add(new TensorGroup("embeddings", 0, layerCount - 1, outside));
        for (int g = 0; g < config.LayerGroups; g++)
        {
            // Contiguous, as even as integer division allows: group g covers [g·L/G, (g+1)·L/G).
            int first = g * layerCount / config.LayerGroups, last = (g + 1) * layerCount / config.LayerGroups - 1;
            string name = first == last ? $"layer {first}" : $"layers {first}-{last}";
            List<GroupPart> shared = g == 0 && !separateEmbeddings ? outside : [];
            if (config.SplitAttentionMlp)
            {
                groups.Add(new TensorGroup(name + " attention", first, last, [.. shared, GroupPart.Attention]));
                groups.Add(new TensorGroup(name + " mlp", first, last, [GroupPart.Mlp]));
            }
            else groups.Add(new TensorGroup(name, first, last, [.. shared, GroupPart.Attention, GroupPart.Mlp]));
        }
        if (config.HeadGroup) groups.Add(new TensorGroup("head", 0, layerCount - 1, [GroupPart.Head]));
        return groups;
    }
}
