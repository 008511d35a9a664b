using System.Numerics.Tensors;
using EvoMerge.Merge.Kernels;

namespace EvoMerge.Merge.Methods;

/// <summary>
/// mergekit's "nuslerp": slerp between two models with t = w₁/(w₀+w₁) from their weights, on task vectors when a base
/// is given, over the flattened tensor or row by row.
/// </summary>
public sealed class NuSlerpMethod : MergeMethod
{
    public override string Name => "nuslerp";
    public override string Description => "slerp of two models (or their task vectors) with t from relative weights";
    public override string Reference => "https://github.com/arcee-ai/mergekit/blob/main/docs/merge_methods.md";
    public override BaseModelUse BaseUse => BaseModelUse.Optional;
    public override int MinModels => 2;
    public override int MaxModels => 2;
    static readonly MethodParameters Declared = new();
    static readonly GlobalFlag Flatten = Declared.Flag("nuslerp_flatten", true, "slerp the whole tensor as one vector");
    static readonly GlobalFlag RowWise = Declared.Flag("nuslerp_row_wise", false, "when not flattened: slerp rows (true) or columns (false)");
    static readonly ModelNumber Weight = Declared.PerModelNumber("weight", null, "relative weight of this model");
    protected override MethodParameters Parameters => Declared;

    public override int ScratchBuffers(int models) => 3;

    public override string? CheckValues(IReadOnlyList<double> globals, IReadOnlyList<double[]> perModel) =>
        Weight.Of(perModel[0]) + Weight.Of(perModel[1]) == 0 ? "the two models' weights sum to zero, so t = w₁/(w₀+w₁) is undefined" : null;

    public override void Merge(TensorMergeContext input, Span<float> output)
    {
        int n = input.Length;
        double w0 = input[Weight, 0], w1 = input[Weight, 1];
        if (w0 + w1 == 0) throw new EvoMergeException($"nuslerp: the two weights of tensor {input.Name} sum to zero");
        double t = w1 / (w0 + w1);
        ReadOnlySpan<float> a = input.Model(0), b = input.Model(1);
        if (input.HasBase)
        {
            var da = input.Scratch(0, n);
            var db = input.Scratch(1, n);
            TensorPrimitives.Subtract(a, input.Base, da);
            TensorPrimitives.Subtract(b, input.Base, db);
            a = da;
            b = db;
        }
        if (input[Flatten] || input.Shape.Length < 2) Spherical.Slerp(t, a, b, output);
        else if (input[RowWise]) Spherical.SlerpRows(t, a, b, output, input.Rows);
        else SlerpColumns(t, a, b, output, input.Rows, input.Columns, input.Scratch(2, 3 * input.Rows));
        if (input.HasBase) TensorPrimitives.Add(output, input.Base, output);
    }

    static void SlerpColumns(double t, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> output, int rows, int cols, Span<float> column)
    {
        var ca = column[..rows];
        var cb = column.Slice(rows, rows);
        var co = column.Slice(2 * rows, rows);
        for (int c = 0; c < cols; c++)
        {
            for (int r = 0; r < rows; r++) { ca[r] = a[r * cols + c]; cb[r] = b[r * cols + c]; }
            Spherical.Slerp(t, ca, cb, co);
            for (int r = 0; r < rows; r++) output[r * cols + c] = co[r];
        }
    }
}
