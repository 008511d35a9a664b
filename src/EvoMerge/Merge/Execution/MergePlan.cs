using EvoMerge.Anatomy;
using EvoMerge.IO;
using EvoMerge.Merge.Methods;

namespace EvoMerge.Merge.Execution;

/// <summary>
/// One input of a merge job: which source (index into the plan's sources) and which of its tensors. A
/// <paramref name="SourceRows"/> different from the job's first dimension marks an embedding or head whose vocabulary
/// differs from the output's: extra rows are dropped, missing rows are filled with the mean of the rows it has.
/// <paramref name="RowMap"/> (a token-wise vocabulary union) gives each output row instead: the mean of the listed
/// rows of whichever sources (one entry: a plain copy; none: zeros).
/// </summary>
public sealed record TensorInput(int Source, string TensorName, long SourceRows = -1, IReadOnlyList<RowSource[]>? RowMap = null);

/// <summary>Row <paramref name="Row"/> of tensor <paramref name="TensorName"/> (<paramref name="Rows"/> rows) of source <paramref name="Source"/>.</summary>
public sealed record RowSource(int Source, string TensorName, long Rows, int Row);

/// <summary>
/// Where an output tensor sits, for parameters that vary over the model: its place in the output model (module,
/// role, output layer, part; see <see cref="ModelAnatomy"/>), the slice it came from, and its relative position
/// within that slice (0 at the slice's first layer, 1 at its last), which gradients interpolate over.
/// </summary>
public readonly record struct TensorPosition(TensorPlace Place, int Slice, double RelativeDepth)
{
    public TensorRole Role => Place.Role;

    /// <summary>The output layer, −1 outside the layers.</summary>
    public int Layer => Place.Layer;
}

/// <summary>One output tensor: its name and shape, where each input comes from, and where it sits in the model.</summary>
/// <summary>One output tensor. <paramref name="ForcedRows"/> (tokenizer <c>tokens:</c> with <c>force</c>) replace
/// output rows after the merge, each by the mean of its listed rows (none: zeros).</summary>
public sealed record MergeJob(string OutputName, long[] Shape, TensorInput? Base, TensorInput[] Models, TensorPosition Position,
    IReadOnlyDictionary<int, RowSource[]>? ForcedRows = null)
{
    public long ElementCount => TensorInfo.ElementCountOf(Shape);
}

/// <summary>
/// What to merge: a method, the source models, and one job per output tensor. Built once (from a recipe by
/// the planner, or from open models by <see cref="ForModels"/>) and executed any number of times.
/// </summary>
public sealed class MergePlan(MergeMethod method, IReadOnlyList<IWeightSource> sources, IReadOnlyList<MergeJob> jobs)
{
    public MergeMethod Method { get; } = method;

    public IReadOnlyList<IWeightSource> Sources { get; } = sources;

    public IReadOnlyList<MergeJob> Jobs { get; } = jobs;

    public long TotalElements => Jobs.Sum(j => j.ElementCount);

    /// <summary>
    /// The plan for models that share tensor names and shapes (the evolution loop's case): one job per tensor of the
    /// base (or of the first model), every model contributing its tensor of the same name. Sources are
    /// [base, models...] when the method uses a base, else [models...].
    /// </summary>
    public static MergePlan ForModels(MergeMethod method, IWeightSource? baseModel, IReadOnlyList<IWeightSource> models, ModelAnatomy? anatomy = null)
    {
        if (method.BaseUse == BaseModelUse.Required && baseModel == null)
            throw new EvoMergeException($"merge method {method.Name} needs a base model");
        if (models.Count < method.MinModels || models.Count > method.MaxModels)
            throw new EvoMergeException($"merge method {method.Name} takes {RangeText(method)} models besides the base, got {models.Count}");
        anatomy ??= ModelAnatomy.For(null);
        bool useBase = baseModel != null && method.BaseUse != BaseModelUse.Ignored;
        var sources = new List<IWeightSource>();
        if (useBase) sources.Add(baseModel!);
        sources.AddRange(models);
        var reference = useBase ? baseModel! : models[0];
        int layers = reference.TensorNames.Select(anatomy.LayerOf).DefaultIfEmpty(-1).Max() + 1;
        var jobs = new List<MergeJob>();
        foreach (string name in reference.TensorNames)
        {
            reference.TryGetShape(name, out var shape);
            foreach (var m in sources)
            {
                if (!m.TryGetShape(name, out var other))
                    throw new EvoMergeException($"{m.Label}: tensor '{name}' is missing (present in {reference.Label})");
                if (!other.AsSpan().SequenceEqual(shape))
                    throw new EvoMergeException($"{m.Label}: tensor '{name}' has shape [{string.Join(", ", other)}], expected [{string.Join(", ", shape)}] as in {reference.Label}");
            }
            var place = anatomy.Place(name);
            double depth = place.Layer < 0 || layers <= 1 ? 0 : (double)place.Layer / (layers - 1);
            int first = useBase ? 1 : 0;
            jobs.Add(new MergeJob(name, shape, useBase ? new TensorInput(0, name) : null,
                Enumerable.Range(first, models.Count).Select(s => new TensorInput(s, name)).ToArray(),
                new TensorPosition(place, 0, depth)));
        }
        return new MergePlan(method, sources, jobs);
    }

    static string RangeText(MergeMethod m) =>
        m.MaxModels == int.MaxValue ? $"at least {m.MinModels}" : m.MinModels == m.MaxModels ? $"exactly {m.MinModels}" : $"{m.MinModels} to {m.MaxModels}";
}
