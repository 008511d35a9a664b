namespace EvoMerge.Merge.Methods;

/// <summary>
/// A merge method is a declaration plus a per-tensor kernel: its name, the parameters a recipe may set (global and
/// per model, with defaults), how it uses the base model, and the arithmetic that turns one tensor of each input
/// into the output tensor. Recipe validation, planning, execution, CLI help and docs all read the declaration;
/// registering a method is one line in <see cref="MergeMethods"/>.
/// </summary>
public abstract class MergeMethod
{
    public abstract string Name { get; }

    public abstract string Description { get; }

    /// <summary>The paper (or page) that defines the arithmetic.</summary>
    public abstract string Reference { get; }

    public abstract BaseModelUse BaseUse { get; }

    /// <summary>How many models (not counting a separate base) the kernel accepts.</summary>
    public virtual int MinModels => 1;

    public virtual int MaxModels => int.MaxValue;

    /// <summary>The parameters a recipe may set, each declared once with the handle the kernel reads it through.</summary>
    protected virtual MethodParameters Parameters { get; } = new();

    public IReadOnlyList<ParameterDef> GlobalParameters => Parameters.Globals;

    public IReadOnlyList<ParameterDef> ModelParameters => Parameters.PerModel;

    /// <summary>
    /// True when each output entry depends only on the same entry of the inputs (and its index), and on the tensor's
    /// <see cref="StatisticsCount"/> sums if it has any, so the executor may stream a large tensor in row blocks
    /// instead of holding it whole.
    /// </summary>
    public virtual bool IsElementwise(MergeCompat compat) => false;

    /// <summary>
    /// Problems with one tensor's resolved parameter values that would make the kernel fail (e.g. DELLA's
    /// density ± epsilon outside (0, 1)), or null. The planner calls it for every tensor, so <c>check</c> reports them
    /// before any data is read. Read the values with the declared handles' <c>Of</c>.
    /// </summary>
    public virtual string? CheckValues(IReadOnlyList<double> globals, IReadOnlyList<double[]> perModel) => null;

    /// <summary>
    /// How many sums over the whole tensor the kernel needs besides each entry's own values (slerp: ‖a‖², ‖b‖², a·b),
    /// given the tensor's resolved global parameters (read with the handles' <c>Of</c>); 0 for none. The executor first runs <see cref="Accumulate"/> over the
    /// tensor (block by block when streaming it) and hands the totals to <see cref="Merge"/> as
    /// <see cref="TensorMergeContext.Statistics"/>, so such a method streams large tensors in two passes over row
    /// blocks instead of holding them whole.
    /// </summary>
    public virtual int StatisticsCount(IReadOnlyList<double> globals) => 0;

    /// <summary>Adds this span's contribution to each of the <see cref="StatisticsCount"/> sums.</summary>
    public virtual void Accumulate(TensorMergeContext input, Span<double> totals) { }

    /// <summary>Tensor-sized scratch buffers the kernel uses for <paramref name="models"/> inputs (for memory estimates).</summary>
    public virtual int ScratchBuffers(int models) => 0;

    /// <summary>
    /// Merges one tensor: <paramref name="input"/> holds the base (when the method uses one) and the models' values as
    /// float32, the resolved parameters and the tensor's random stream; <paramref name="output"/> has the same length.
    /// Called concurrently for different tensors, each with its own context.
    /// </summary>
    public abstract void Merge(TensorMergeContext input, Span<float> output);

    public int GlobalIndex(string name) => IndexOf(GlobalParameters, name);

    public int ModelIndex(string name) => IndexOf(ModelParameters, name);

    static int IndexOf(IReadOnlyList<ParameterDef> list, string name)
    {
        for (int i = 0; i < list.Count; i++)
            if (list[i].Name == name) return i;
        return -1;
    }

    public override string ToString() => Name;
}
