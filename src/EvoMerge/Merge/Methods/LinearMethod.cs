using System.Numerics.Tensors;

namespace EvoMerge.Merge.Methods;

/// <summary>Weighted average of the models (Wortsman et al., model soups): Σ wᵢθᵢ, divided by Σ wᵢ when normalize.</summary>
public sealed class LinearMethod : MergeMethod
{
    public override string Name => "linear";
    public override string Description => "weighted average of the models";
    public override string Reference => "https://arxiv.org/abs/2203.05482";
    public override BaseModelUse BaseUse => BaseModelUse.Ignored;
    static readonly MethodParameters Declared = new();
    static readonly GlobalFlag Normalize = Declared.Flag("normalize", true, "divide by the sum of the weights");
    static readonly ModelNumber Weight = Declared.PerModelNumber("weight", null, "this model's weight");
    protected override MethodParameters Parameters => Declared;

    public override bool IsElementwise(MergeCompat compat) => true;

    public override void Merge(TensorMergeContext input, Span<float> output)
    {
        output.Clear();
        double sum = 0;
        for (int m = 0; m < input.ModelCount; m++)
        {
            double w = input[Weight, m];
            TensorPrimitives.MultiplyAdd(input.Model(m), (float)w, output, output);
            sum += w;
        }
        // Weights summing to ~0 cannot be normalised; like mergekit, the sum is left undivided.
        if (input[Normalize] && Math.Abs(sum) >= 1e-8) TensorPrimitives.Divide(output, (float)sum, output);
    }
}
