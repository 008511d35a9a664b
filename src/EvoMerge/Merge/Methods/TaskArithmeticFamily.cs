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
    readonly SparsificationKind _sparsification;
    readonly bool _consensus;
    readonly GlobalFlag _normalize, _rescale;
    readonly GlobalNumber _lambda;
    readonly ModelNumber _weight;
    readonly ModelNumber? _density, _gamma, _epsilon;

    public TaskArithmeticFamily(string name, string description, string reference, SparsificationKind sparsification,
        bool consensus, bool defaultNormalize, bool defaultRescale)
    {
        Name = name;
        Description = description;
        Reference = reference;
        _sparsification = sparsification;
        _consensus = consensus;
        var p = Parameters.AcceptInt8Mask();
        _normalize = p.Flag("normalize", defaultNormalize, "divide the summed task vectors by the summed weights that contributed");
        _rescale = p.Flag("rescale", defaultRescale, "rescale kept entries after sparsification");
        _lambda = p.Number("lambda", 1.0, "scale of the combined task vector");
        _weight = p.PerModelNumber("weight", null, "scale of this model's task vector");
        if (sparsification != SparsificationKind.None)
            _density = p.PerModelNumber("density", 1.0, "fraction of the task vector to keep");
        if (sparsification == SparsificationKind.MagnitudeOutliers)
            _gamma = p.PerModelNumber("gamma", 0.01, "fraction of largest-magnitude entries removed as outliers");
        if (sparsification == SparsificationKind.DellaMagprune)
            _epsilon = p.PerModelNumber("epsilon", 0.15, "spread of keep probabilities around density");
    }

    public override string Name { get; }
    public override string Description { get; }
    public override string Reference { get; }
    public override BaseModelUse BaseUse => BaseModelUse.Required;

    /// <summary>
    /// Entry-wise unless a step needs the whole tensor: magnitude ranking (TIES, Breadcrumbs, DELLA's row ranks) or
    /// mergekit's L1-norm rescale of DARE.
    /// </summary>
    public override bool IsElementwise(MergeCompat compat) =>
        _sparsification == SparsificationKind.None || (_sparsification == SparsificationKind.Random && compat == MergeCompat.Paper);

    public override int ScratchBuffers(int models) => models + 1;

    public override string? CheckValues(IReadOnlyList<double> globals, IReadOnlyList<double[]> perModel)
    {
        if (_epsilon is not { } epsilon || _density is not { } density) return null;
        foreach (var p in perModel)
        {
            double d = density.Of(p), e = epsilon.Of(p);
            if (d > 0 && d < 1 && (d - e <= 0 || d + e >= 1))
                return $"density ± epsilon must lie in (0, 1), got density {d} and epsilon {e}";
        }
        return null;
    }

    /// <summary>
    /// Which rescale the recipe's <c>rescale</c> flag means: random thinning divides by the keep probability (the
    /// papers) or, in mergekit mode, matches the L1 norm; magnitude thinning always matches the L1 norm (no paper
    /// prescribes a rescale for it).
    /// </summary>
    SparsificationRescale RescaleFor(bool rescale, MergeCompat compat) =>
        !rescale ? SparsificationRescale.None
        : _sparsification is SparsificationKind.Random or SparsificationKind.DellaMagprune && compat == MergeCompat.Paper
            ? SparsificationRescale.DivideByKeepProbability
            : SparsificationRescale.MatchL1Norm;

    /// <summary>
    /// Entry-wise configurations run chunk by chunk (<see cref="TaskVectorCombine.ChunkElements"/>): each model's
    /// task vector is formed and masked in an L1-sized slice of the chunk buffer and combined straight
    /// away, so the only passes over memory are reading the inputs and writing the output. Thinning that ranks or
    /// rescales the whole tensor first forms every task vector whole (<see cref="WholeTaskVectors"/>, slot 0 for the
    /// sparsifier's scratch), then combines them chunk by chunk.
    /// </summary>
    public override void Merge(TensorMergeContext input, Span<float> output)
    {
        int n = input.Length, models = input.ModelCount;
        Span<float> weights = models <= 64 ? stackalloc float[models] : new float[models];
        for (int m = 0; m < models; m++) weights[m] = (float)input[_weight, m];
        var rule = new CombineRule(_consensus, input[_normalize], (float)input[_lambda]);
        var rescale = RescaleFor(input[_rescale], input.Compat);
        if (!IsElementwise(input.Compat))
        {
            for (int m = 0; m < models; m++) TaskVector(input, m, 0, WholeTaskVectors.Of(input, m), rescale);
            WholeTaskVectors.Combine(input, weights, rule, output);
            return;
        }
        var chunk = input.Scratch(models + 1, models * Math.Min(n, TaskVectorCombine.ChunkElements));
        for (int start = 0; start < n; start += TaskVectorCombine.ChunkElements)
        {
            int length = Math.Min(TaskVectorCombine.ChunkElements, n - start);
            for (int m = 0; m < models; m++) TaskVector(input, m, start, chunk.Slice(m * length, length), rescale);
            TaskVectorCombine.Chunk(chunk[..(models * length)], weights, rule, input.Base.Slice(start, length), output.Slice(start, length));
        }
    }

    /// <summary>thin(θₘ − θ_base) for entries [start, start + delta.Length) of the span being merged (weighted when combined).</summary>
    void TaskVector(TensorMergeContext input, int m, int start, Span<float> delta, SparsificationRescale rescale)
    {
        TensorPrimitives.Subtract(input.Model(m).Slice(start, delta.Length), input.Base.Slice(start, delta.Length), delta);
        if (_density is not { } density) return;
        Sparsification.Apply(_sparsification, delta, input[density, m],
            _gamma is { } gamma ? input[gamma, m] : 0, _epsilon is { } epsilon ? input[epsilon, m] : 0,
            rescale, TensorRandom.StreamKey(input.RandomKey, m), input.Rows, input.Scratch(0, delta.Length), input.ElementOffset + start);
    }
}
