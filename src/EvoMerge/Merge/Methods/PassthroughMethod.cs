using System.Numerics.Tensors;

namespace EvoMerge.Merge.Methods;

/// <summary>Copies one model's tensor, optionally scaled: the building block of layer-stacking frankenmerges.</summary>
public sealed class PassthroughMethod : MergeMethod
{
    public override string Name => "passthrough";
    public override string Description => "copy a single model's tensors unchanged (times scale)";
    public override string Reference => "https://github.com/arcee-ai/mergekit/blob/main/docs/merge_methods.md";
    public override BaseModelUse BaseUse => BaseModelUse.Ignored;
    public override int MaxModels => 1;
    static readonly MethodParameters Declared = new();
    static readonly ModelNumber Scale = Declared.PerModelNumber("scale", 1.0, "multiply the tensor by this factor");
    protected override MethodParameters Parameters => Declared;

    public override bool IsElementwise(MergeCompat compat) => true;

    public override void Merge(TensorMergeContext input, Span<float> output) =>
        TensorPrimitives.Multiply(input.Model(0), (float)input[Scale, 0], output);
}
