using EvoMerge.Merge.Kernels;

namespace EvoMerge.Merge.Methods;

/// <summary>Spherical interpolation from the base (t = 0) to the other model (t = 1), per tensor or per row.</summary>
public sealed class SlerpMethod : MergeMethod
{
    const int T = 0, RowWise = 1;

    public override string Name => "slerp";
    public override string Description => "spherical interpolation between the base and one other model";
    public override string Reference => "https://en.wikipedia.org/wiki/Slerp";
    public override BaseModelUse BaseUse => BaseModelUse.Required;
    public override int MaxModels => 1;
    public override IReadOnlyList<ParameterDef> GlobalParameters { get; } =
    [
        ParameterDef.Number("t", null, "interpolation factor: 0 gives the base, 1 the other model"),
        ParameterDef.Flag("row_wise", false, "interpolate each row separately (EvoMerge extension)"),
    ];

    public override void Merge(TensorMergeContext input, Span<float> output)
    {
        double t = input.Global(T);
        if (input.Flag(RowWise)) Spherical.SlerpRows(t, input.Base, input.Model(0), output, input.Rows);
        else Spherical.Slerp(t, input.Base, input.Model(0), output);
    }
}
