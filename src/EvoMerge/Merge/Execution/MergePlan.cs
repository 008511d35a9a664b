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

/// <summary>
/// Rows <paramref name="FromRow"/>.. of a job's output copied from <paramref name="Input"/> instead of merged: the rows
/// only a VLM has (its image token, padding rows), or with <paramref name="FromRow"/> 0 a whole tensor (a VLM's
/// vision tower and projector). A copy is bit for bit when the output dtype is the input's.
/// </summary>
public sealed record CopiedRows(TensorInput Input, long FromRow);

/// <summary>One output tensor: its name and shape, where each input comes from, and where it sits in the model.
/// <paramref name="ForcedRows"/> (tokenizer <c>tokens:</c> with <c>force</c>) replace output rows after the merge,
/// each by the mean of its listed rows (none: zeros). With <paramref name="Copied"/>, only the rows before
/// <see cref="CopiedRows.FromRow"/> are merged (as a tensor of that many rows) and the rest are copied.</summary>
public sealed record MergeJob(string OutputName, long[] Shape, TensorInput? Base, TensorInput[] Models, TensorPosition Position,
    IReadOnlyDictionary<int, RowSource[]>? ForcedRows = null, CopiedRows? Copied = null)
{
    public long ElementCount => TensorInfo.ElementCountOf(Shape);

    /// <summary>True for a tensor copied whole from one input: no kernel runs and no parameter is asked for.</summary>
    public bool IsCopy => Copied is { FromRow: 0 };

    /// <summary>Elements the kernel merges: all of them, or the rows before the copied ones.</summary>
    public long MergedElements => Copied is { } c ? c.FromRow * (Shape.Length == 0 ? 1 : ElementCount / Math.Max(1, Shape[0])) : ElementCount;
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
    /// <param name="layout">
    /// A VLM among the sources whose language model is merged with plain LLMs (<paramref name="anatomy"/> is then
    /// the VLM's): the output has its names and tensors; each LLM contributes its tensor of the same decoder name;
    /// the vision tower and projector are copied from it, and so are embedding and head rows beyond the rows every
    /// source has (<see cref="CopiedRows"/>).
    /// </param>
    public static MergePlan ForModels(MergeMethod method, IWeightSource? baseModel, IReadOnlyList<IWeightSource> models, ModelAnatomy? anatomy = null,
        IWeightSource? layout = null)
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
        int layoutIndex = layout == null ? -1 : sources.IndexOf(layout);
        if (layout != null && layoutIndex < 0) throw new ArgumentException("the layout model must be one of the sources", nameof(layout));
        var reference = layout ?? (useBase ? baseModel! : models[0]);
        int layers = reference.TensorNames.Where(n => anatomy.Place(n).Module == anatomy.LayeredModule)
            .Select(anatomy.LayerOf).DefaultIfEmpty(-1).Max() + 1;
        var jobs = new List<MergeJob>();
        foreach (string name in reference.TensorNames)
        {
            reference.TryGetShape(name, out var shape);
            var place = anatomy.Place(name);
            double depth = place.Layer < 0 || layers <= 1 ? 0 : (double)place.Layer / (layers - 1);
            string? decoder = anatomy.DecoderName(name);
            if (layout != null && decoder == null)
            {
                // The VLM's vision tower and projector; an integer buffer (position_ids) is left to the runtime, as a recipe does.
                if (!layout.IsFloat(name)) continue;
                jobs.Add(new MergeJob(name, shape, null, [], new TensorPosition(place, 0, 0), Copied: new CopiedRows(new TensorInput(layoutIndex, name), 0)));
                continue;
            }
            bool vocab = place.Role is TensorRole.Embedding or TensorRole.Head;
            long sharedRows = shape.Length > 0 ? shape[0] : 0;
            var names = new string[sources.Count];
            for (int s = 0; s < sources.Count; s++)
            {
                var m = sources[s];
                names[s] = layout == null ? name : SameTensor(m, name, decoder!);
                if (!m.TryGetShape(names[s], out var other))
                    throw new EvoMergeException($"{m.Label}: tensor '{names[s]}' is missing (present in {reference.Label})");
                bool rowsDiffer = layout != null && vocab && other.Length == shape.Length && other.AsSpan(1).SequenceEqual(shape.AsSpan(1));
                if (!other.AsSpan().SequenceEqual(shape) && !rowsDiffer)
                    throw new EvoMergeException($"{m.Label}: tensor '{names[s]}' has shape [{string.Join(", ", other)}], expected [{string.Join(", ", shape)}] as in {reference.Label}");
                sharedRows = Math.Min(sharedRows, other.Length > 0 ? other[0] : 0);
            }
            var copied = layout != null && vocab && sharedRows < shape[0] ? new CopiedRows(new TensorInput(layoutIndex, name), sharedRows) : null;
            int first = useBase ? 1 : 0;
            jobs.Add(new MergeJob(name, shape, useBase ? new TensorInput(0, names[0]) : null,
                Enumerable.Range(first, models.Count).Select(s => new TensorInput(s, names[s])).ToArray(),
                new TensorPosition(place, 0, depth), Copied: copied));
        }
        return new MergePlan(method, sources, jobs);
    }

    /// <summary>A source's tensor for the layout's <paramref name="name"/>: the same name (another VLM of its layout),
    /// the plain LLM's decoder name, or the other LLaVA layout's name.</summary>
    static string SameTensor(IWeightSource source, string name, string decoder)
    {
        foreach (string candidate in new[] { name, decoder, ModelAnatomy.LlavaName(decoder, false), ModelAnatomy.LlavaName(decoder, true) })
            if (source.TryGetShape(candidate, out _)) return candidate;
        return decoder;
    }

    static string RangeText(MergeMethod m) =>
        m.MaxModels == int.MaxValue ? $"at least {m.MinModels}" : m.MinModels == m.MaxModels ? $"exactly {m.MinModels}" : $"{m.MinModels} to {m.MaxModels}";
}
