using EvoMerge.Candidates;
using EvoMerge.Evolution.Config;

namespace EvoMerge.Evolution.Spaces;

/// <summary>
/// Data-flow space, as the paper: the layers of all models are laid out in order (model A's, then the others')
/// and the sequence is repeated r times, giving T slots. The genome is T indicators (slot used iff its coordinate
/// is above 0.5, i.e. I = u − 0.5 > 0) followed by the scales (see <see cref="DfsScales"/>; coordinate u maps to
/// u · scale_max, so the start point 0.5 is scale 1 with the default scale_max 2).
/// With fix_ends, model A's first and last layers are the fixed ends of every path and are left out of the slots.
/// When more slots are on than max_path_length allows, the slots with the largest indicators are kept, in order.
/// Each model's own path is an anchor (<see cref="ISearchSpace.Anchors"/>): its layers of the first repetition on
/// (indicator 0.75), every other slot off (0.25), all scales 1. With fix_ends a model other than A runs between A's
/// first and last layers. Model A's path is also <see cref="Initial"/>, the start when no anchor is scored.
/// </summary>
public sealed class DfsSpace : ISearchSpace
{
    readonly DfsConfig _config;
    readonly IReadOnlyList<string> _models;
    readonly int[] _layerCounts;
    readonly int[] _firstGlobalLayer;          // index of each model's layer 0 in the M laid-out layers
    readonly (int Model, int Layer)[] _slots;  // the T slots in path order

    /// <param name="models">Model A first.</param>
    /// <param name="layerCounts">Decoder layers of each model.</param>
    public DfsSpace(DfsConfig config, IReadOnlyList<string> models, IReadOnlyList<int> layerCounts)
    {
        if (config.FixEnds && layerCounts[0] < 2)
            throw new EvoMergeException("dfs.fix_ends: model A needs at least two layers to fix the first and last");
        _config = config;
        _models = models;
        _layerCounts = layerCounts.ToArray();
        _firstGlobalLayer = new int[models.Count];
        for (int m = 1; m < models.Count; m++) _firstGlobalLayer[m] = _firstGlobalLayer[m - 1] + _layerCounts[m - 1];

        var oneRepeat = new List<(int, int)>();
        for (int m = 0; m < models.Count; m++)
            for (int l = 0; l < _layerCounts[m]; l++)
                if (!(config.FixEnds && m == 0 && (l == 0 || l == _layerCounts[0] - 1))) oneRepeat.Add((m, l));
        _slots = Enumerable.Repeat(oneRepeat, config.Repeats).SelectMany(r => r).ToArray();

        int scaleCount = config.Scales switch
        {
            DfsScales.ModelPair => models.Count * models.Count,
            DfsScales.LayerPair => TotalLayers * TotalLayers,
            DfsScales.PerSlot => _slots.Length,
            _ => 0,
        };
        var names = _slots.Select((s, t) => $"slot {t} (model {s.Model} layer {s.Layer})/used").ToList();
        names.AddRange(Enumerable.Range(0, scaleCount).Select(i => config.Scales switch
        {
            DfsScales.ModelPair => $"scale model {i / models.Count}→{i % models.Count}",
            DfsScales.LayerPair => $"scale layer {i / TotalLayers}→{i % TotalLayers}",
            _ => $"slot {i}/scale",
        }));
        CoordinateNames = names;

        Anchors = Enumerable.Range(0, models.Count).Select(m => SourcePath(m, oneRepeat.Count)).ToList();
    }

    /// <summary>Model <paramref name="model"/>'s layers of the first repetition in order, every scale 1.</summary>
    double[] SourcePath(int model, int firstRepeatSlots)
    {
        var genome = new double[Dimension];
        // The coordinate u of a scale maps to u · scale_max; 1 where the range reaches it.
        Array.Fill(genome, Math.Min(1, 1 / _config.ScaleMax));
        for (int t = 0; t < _slots.Length; t++) genome[t] = t < firstRepeatSlots && _slots[t].Model == model ? 0.75 : 0.25;
        return genome;
    }

    public string Name => "dfs";
    public int SlotCount => _slots.Length;
    public int Dimension => CoordinateNames.Count;
    public double[] Initial => Anchors[0];
    public IReadOnlyList<double[]> Anchors { get; }
    public IReadOnlyList<string> CoordinateNames { get; }
    int TotalLayers => _layerCounts.Sum();

    public ModelBuild Decode(ReadOnlySpan<double> genome)
    {
        if (genome.Length != Dimension) throw new ArgumentException($"genome has {genome.Length} coordinates, the DFS space {Dimension}");
        var indicators = genome[.._slots.Length];
        var scales = genome[_slots.Length..];

        var used = new List<int>();
        for (int t = 0; t < _slots.Length; t++) if (indicators[t] > 0.5) used.Add(t);
        int ends = _config.FixEnds ? 2 : 0;
        if (_config.MaxPathLength is int max && used.Count > Math.Max(0, max - ends))
        {
            var strongest = indicators.ToArray();
            used = used.OrderByDescending(t => strongest[t]).ThenBy(t => t).Take(Math.Max(0, max - ends)).Order().ToList();
        }

        var steps = new List<PathStep>();
        if (_config.FixEnds) steps.Add(Step(0, 0, slot: null, previous: null, scales));
        foreach (int t in used) steps.Add(Step(_slots[t].Model, _slots[t].Layer, t, steps.Count > 0 ? steps[^1] : null, scales));
        if (_config.FixEnds) steps.Add(Step(0, _layerCounts[0] - 1, slot: null, steps[^1], scales));
        return new PathBuild(new LayerPath(_models, steps));
    }

    PathStep Step(int model, int layer, int? slot, PathStep? previous, ReadOnlySpan<double> scales)
    {
        int? index = _config.Scales switch
        {
            // Before the first step the hidden state is model A's embedding output.
            DfsScales.ModelPair => (previous?.Model ?? 0) * _models.Count + model,
            DfsScales.LayerPair => previous is { } p
                ? (_firstGlobalLayer[p.Model] + p.Layer) * TotalLayers + _firstGlobalLayer[model] + layer
                : null,
            DfsScales.PerSlot => slot,
            _ => null,
        };
        return new PathStep(model, layer, index is int i ? scales[i] * _config.ScaleMax : 1);
    }
}
