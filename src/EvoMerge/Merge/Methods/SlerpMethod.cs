using EvoMerge.Merge.Kernels;

namespace EvoMerge.Merge.Methods;

/// <summary>Spherical interpolation from the base (t = 0) to the other model (t = 1), per tensor or per row.</summary>
public sealed class SlerpMethod : MergeMethod
{
    public override string Name => "slerp";
    public override string Description => "spherical interpolation between the base and one other model";
    public override string Reference => "https://en.wikipedia.org/wiki/Slerp";
    public override BaseModelUse BaseUse => BaseModelUse.Required;
    public override int MaxModels => 1;
    static readonly MethodParameters Declared = new();
    static readonly GlobalNumber T = Declared.Number("t", null, "interpolation factor: 0 gives the base, 1 the other model");
    static readonly GlobalFlag RowWise = Declared.Flag("row_wise", false, "interpolate each row separately (EvoMerge extension)");
    protected override MethodParameters Parameters => Declared;

    /// <summary>Per-tensor slerp needs ‖base‖², ‖model‖² and base·model over the whole tensor before any entry (row-wise needs none).</summary>
    public override int StatisticsCount(IReadOnlyList<double> globals) => RowWise.Of(globals) ? 0 : 3;

    /// <summary>Entry-wise once the tensor's sums are known; row-wise slerp only ever needs the rows of a block.</summary>
    public override bool IsElementwise(MergeCompat compat) => true;

    public override void Accumulate(TensorMergeContext input, Span<double> totals)
    {
        var (xx, yy, xy) = Spherical.Gram(input.Base, input.Model(0));
        totals[0] += xx;
        totals[1] += yy;
        totals[2] += xy;
    }

    public override void Merge(TensorMergeContext input, Span<float> output)
    {
        double t = input[T];
        if (input[RowWise])
        {
            Spherical.SlerpRows(t, input.Base, input.Model(0), output, input.Rows);
            return;
        }
        var totals = input.Statistics;
        var (s0, s1) = Spherical.Coefficients(t, (totals[0], totals[1], totals[2]));
        Spherical.Combine(input.Base, s0, input.Model(0), s1, output);
    }
}
