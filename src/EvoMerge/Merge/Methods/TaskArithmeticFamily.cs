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

    public override int ScratchBuffers(int models) => models + 2;

    public override string? CheckValues(IReadOnlyList<double> globals, IReadOnlyList<double[]> perModel)
    {
        if (_sparsification != SparsificationKind.DellaMagprune) return null;
        foreach (var p in perModel)
            if (p[Density] > 0 && p[Density] < 1 && (p[Density] - p[Extra] <= 0 || p[Density] + p[Extra] >= 1))
                return $"density ± epsilon must lie in (0, 1), got density {p[Density]} and epsilon {p[Extra]}";
        return null;
    }

    public override void Merge(TensorMergeContext input, Span<float> output)
    {
        int n = input.Length, models = input.ModelCount;
        var baseValues = input.Base;
        bool rescale = input.Flag(Rescale);
        // Slot 0 is the sparsifier's scratch; slots 1..models hold the weighted task vectors.
        var scratch = input.Scratch(0, n);
        float weightSum = 0;
        for (int m = 0; m < models; m++)
        {
            var delta = input.Scratch(m + 1, n);
            TensorPrimitives.Subtract(input.Model(m), baseValues, delta);
            if (_sparsification != SparsificationKind.None)
                Sparsification.Apply(_sparsification, delta, input.ModelParameter(m, Density),
                    _sparsification == SparsificationKind.MagnitudeOutliers ? input.ModelParameter(m, Extra) : 0,
                    _sparsification == SparsificationKind.DellaMagprune ? input.ModelParameter(m, Extra) : 0,
                    rescale, input.Compat, TensorRandom.StreamKey(input.RandomKey, m), input.Rows, scratch, input.ElementOffset);
            float w = (float)input.ModelParameter(m, Weight);
            TensorPrimitives.Multiply(delta, w, delta);
            weightSum += w;
        }

        bool normalize = input.Flag(Normalize);
        float lambda = (float)input.Global(Lambda);
        if (_consensus) CombineBySignConsensus(input, output, normalize, lambda);
        else
        {
            output.Clear();
            for (int m = 0; m < models; m++) TensorPrimitives.Add(output, input.Scratch(m + 1, n), output);
            // Weights summing to (nearly) zero would blow the sum up; mergekit leaves it undivided, and so do we.
            float divisor = normalize && Math.Abs(weightSum) >= 1e-8f ? weightSum : 1;
            TensorPrimitives.Multiply(output, lambda / divisor, output);
        }
        TensorPrimitives.Add(output, baseValues, output);
    }

    /// <summary>TIES' disjoint merge: elect each entry's sign from Σ wᵢτᵢ, keep only agreeing contributions.</summary>
    static void CombineBySignConsensus(TensorMergeContext input, Span<float> output, bool normalize, float lambda)
    {
        int n = input.Length, models = input.ModelCount;
        input.ElectSigns(output, out var elected, out var kept);
        for (int m = 0; m < models; m++)
            SignConsensus.AddAgreeing(input.Scratch(m + 1, n), (float)input.ModelParameter(m, Weight), elected, output, kept);
        if (normalize)
        {
            // Entries where nothing agreed keep a zero sum; dividing by 1 leaves them zero.
            for (int i = 0; i < n; i++) if (kept[i] == 0) kept[i] = 1;
            TensorPrimitives.Divide(output, kept, output);
        }
        if (lambda != 1) TensorPrimitives.Multiply(output, lambda, output);
    }
}
