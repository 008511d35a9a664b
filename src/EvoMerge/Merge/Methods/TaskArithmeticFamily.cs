using System.Numerics.Tensors;
using EvoMerge.Merge.Kernels;

namespace EvoMerge.Merge.Methods;

/// <summary>
/// Task arithmetic and its descendants (TIES, DARE, Breadcrumbs, DELLA): take task vectors τᵢ = θᵢ − θ_base, thin each
/// one (<see cref="SparsificationKind"/>), weight them, optionally keep only the entries that agree with the
/// elected sign (TIES consensus: the sign of Σ wᵢτᵢ), sum, optionally divide by the summed weights of what was kept
/// (<c>normalize</c>), scale by <c>lambda</c> and add back to the base.
/// </summary>
public sealed class TaskArithmeticFamily : MergeMethod
{
    // Indices into the declared parameter lists below.
    const int Int8Mask = 0, Normalize = 1, Rescale = 2, Lambda = 3;
    const int Weight = 0, Density = 1, Extra = 2;

    readonly SparsificationKind _sparsification;
    readonly bool _consensus;
    readonly ParameterDef[] _globals;
    readonly ParameterDef[] _perModel;

    public TaskArithmeticFamily(string name, string description, string reference, SparsificationKind sparsification,
        bool consensus, bool defaultNormalize, bool defaultRescale)
    {
        Name = name;
        Description = description;
        Reference = reference;
        _sparsification = sparsification;
        _consensus = consensus;
        _globals =
        [
            ParameterDef.Flag("int8_mask", false, "accepted for mergekit compatibility; masks are exact either way"),
            ParameterDef.Flag("normalize", defaultNormalize, "divide the summed task vectors by the summed weights that contributed"),
            ParameterDef.Flag("rescale", defaultRescale, "rescale kept entries after sparsification"),
            ParameterDef.Number("lambda", 1.0, "scale of the combined task vector"),
        ];
        var perModel = new List<ParameterDef> { ParameterDef.Number("weight", null, "scale of this model's task vector") };
        if (sparsification != SparsificationKind.None)
            perModel.Add(ParameterDef.Number("density", 1.0, "fraction of the task vector to keep"));
        if (sparsification == SparsificationKind.MagnitudeOutliers)
            perModel.Add(ParameterDef.Number("gamma", 0.01, "fraction of largest-magnitude entries removed as outliers"));
        if (sparsification == SparsificationKind.DellaMagprune)
            perModel.Add(ParameterDef.Number("epsilon", 0.15, "spread of keep probabilities around density"));
        _perModel = perModel.ToArray();
    }

    public override string Name { get; }
    public override string Description { get; }
    public override string Reference { get; }
    public override BaseModelUse BaseUse => BaseModelUse.Required;
    public override IReadOnlyList<ParameterDef> GlobalParameters => _globals;
    public override IReadOnlyList<ParameterDef> ModelParameters => _perModel;

    /// <summary>
    /// Entry-wise unless a step needs the whole tensor: magnitude ranking (TIES, Breadcrumbs, DELLA's row ranks) or
    /// mergekit's L1-norm rescale of DARE.
    /// </summary>
    public override bool IsElementwise(MergeCompat compat) =>
        _sparsification == SparsificationKind.None || (_sparsification == SparsificationKind.Random && compat == MergeCompat.Paper);

    public override int ScratchBuffers(int models) => models + 1;

    public override string? CheckValues(IReadOnlyList<double> globals, IReadOnlyList<double[]> perModel)
    {
        if (_sparsification != SparsificationKind.DellaMagprune) return null;
        foreach (var p in perModel)
            if (p[Density] > 0 && p[Density] < 1 && (p[Density] - p[Extra] <= 0 || p[Density] + p[Extra] >= 1))
                return $"density ± epsilon must lie in (0, 1), got density {p[Density]} and epsilon {p[Extra]}";
        return null;
    }

    /// <summary>
    /// Entry-wise configurations run chunk by chunk (<see cref="TaskVectorCombine.ChunkElements"/>): each model's
    /// task vector is formed and masked in an L1-sized slice of the chunk buffer and combined straight
    /// away, so the only passes over memory are reading the inputs and writing the output. Thinning that ranks or
    /// rescales the whole tensor first forms every task vector whole (scratch slots 1..models, slot 0 for the
    /// sparsifier), then combines them chunk by chunk.
    /// </summary>
    public override void Merge(TensorMergeContext input, Span<float> output)
    {
        int n = input.Length, models = input.ModelCount;
        Span<float> weights = models <= 64 ? stackalloc float[models] : new float[models];
        for (int m = 0; m < models; m++) weights[m] = (float)input.ModelParameter(m, Weight);
        var rule = new CombineRule(_consensus, input.Flag(Normalize), (float)input.Global(Lambda));
        if (!IsElementwise(input.Compat))
        {
            for (int m = 0; m < models; m++) TaskVector(input, m, 0, input.Scratch(m + 1, n));
            TaskVectorCombine.FromSlots(input, weights, rule, output);
            return;
        }
        var chunk = input.Scratch(models + 1, models * Math.Min(n, TaskVectorCombine.ChunkElements));
        for (int start = 0; start < n; start += TaskVectorCombine.ChunkElements)
        {
            int length = Math.Min(TaskVectorCombine.ChunkElements, n - start);
            for (int m = 0; m < models; m++) TaskVector(input, m, start, chunk.Slice(m * length, length));
            TaskVectorCombine.Chunk(chunk[..(models * length)], weights, rule, input.Base.Slice(start, length), output.Slice(start, length));
        }
    }

    /// <summary>thin(θₘ − θ_base) for entries [start, start + delta.Length) of the span being merged (weighted when combined).</summary>
    void TaskVector(TensorMergeContext input, int m, int start, Span<float> delta)
    {
        TensorPrimitives.Subtract(input.Model(m).Slice(start, delta.Length), input.Base.Slice(start, delta.Length), delta);
        if (_sparsification != SparsificationKind.None)
            Sparsification.Apply(_sparsification, delta, input.ModelParameter(m, Density),
                _sparsification == SparsificationKind.MagnitudeOutliers ? input.ModelParameter(m, Extra) : 0,
                _sparsification == SparsificationKind.DellaMagprune ? input.ModelParameter(m, Extra) : 0,
                input.Flag(Rescale), input.Compat, TensorRandom.StreamKey(input.RandomKey, m), input.Rows, input.Scratch(0, delta.Length),
                input.ElementOffset + start);
    }
}
