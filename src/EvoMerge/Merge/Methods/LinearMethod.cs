using System.Numerics.Tensors;

namespace EvoMerge.Merge.Methods;

/// <summary>Weighted average of the models (Wortsman et al., model soups): Σ wᵢθᵢ, divided by Σ wᵢ when normalize.</summary>
public sealed class LinearMethod : MergeMethod
{
    const int Normalize = 0, Weight = 0;

    public override string Name => "linear";
    public override string Description => "weighted average of the models";
    public override string Reference => "https://arxiv.org/abs/2203.05482";
    public override BaseModelUse BaseUse => BaseModelUse.Ignored;
    public override IReadOnlyList<ParameterDef> GlobalParameters { get; } =
        [ParameterDef.Flag("normalize", true, "divide by the sum of the weights")];
    public override IReadOnlyList<ParameterDef> ModelParameters { get; } =
        [ParameterDef.Number("weight", null, "this model's weight")];

    public override bool IsElementwise(MergeCompat compat) => true;

    public override void Merge(TensorMergeContext input, Span<float> output)
    {
        output.Clear();
        double sum = 0;
        for (int m = 0; m < input.ModelCount; m++)
        {
            double w = input.ModelParameter(m, Weight);
            TensorPrimitives.MultiplyAdd(input.Model(m), (float)w, output, output);
            sum += w;
        }
        // Weights summing to ~0 cannot be normalised; like mergekit, the sum is left undivided.
        if (input.Flag(Normalize) && Math.Abs(sum) >= 1e-8) TensorPrimitives.Divide(output, (float)sum, output);
    }
}
