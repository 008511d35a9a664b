using System.Numerics.Tensors;
using EvoMerge.Merge.Kernels;

namespace EvoMerge.Merge.Methods;

/// <summary>
/// Model Stock (Jang et al., arXiv 2403.19522): with N fine-tuned models and cos θ the mean pairwise cosine of their
/// task vectors, t = N·cos θ / (1 + (N − 1)·cos θ) and out = t·mean(θᵢ) + (1 − t)·θ_base; per tensor or per row.
/// </summary>
public sealed class ModelStockMethod : MergeMethod
{
    public override string Name => "model_stock";
    public override string Description => "interpolate the models' average towards the base by the angle between task vectors";
    public override string Reference => "https://arxiv.org/abs/2403.19522";
    public override BaseModelUse BaseUse => BaseModelUse.Required;
    public override int MinModels => 2;
    static readonly MethodParameters Declared = new();
    static readonly GlobalFlag FilterWise = Declared.Flag("filter_wise", false, "compute the angle and ratio per row instead of per tensor");
    protected override MethodParameters Parameters => Declared;

    public override int ScratchBuffers(int models) => models;

    public override void Merge(TensorMergeContext input, Span<float> output)
    {
        int rows = input[FilterWise] ? input.Rows : 1, cols = input.Length / rows, n = input.ModelCount;
        for (int m = 0; m < n; m++)
        {
            var d = input.Scratch(m, input.Length);
            TensorPrimitives.Subtract(input.Model(m), input.Base, d);
        }
        for (int r = 0; r < rows; r++)
        {
            var range = new Range(r * cols, (r + 1) * cols);
            double cos = 0;
            int pairs = 0;
            for (int i = 0; i < n; i++)
                for (int j = i + 1; j < n; j++, pairs++)
                    cos += Cosine(input.Scratch(i, input.Length)[range], input.Scratch(j, input.Length)[range]);
            cos /= pairs;
            double denominator = 1 + (n - 1) * cos;
            double t = Math.Abs(denominator) < 1e-12 ? 0 : n * cos / denominator;
            var o = output[range];
            o.Clear();
            for (int m = 0; m < n; m++) TensorPrimitives.Add(o, input.Model(m)[range], o);
            TensorPrimitives.Multiply(o, (float)(t / n), o);
            TensorPrimitives.MultiplyAdd(input.Base[range], (float)(1 - t), o, o);
        }
    }

    static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double na = Spherical.Norm(a), nb = Spherical.Norm(b);
        return na < 1e-8 || nb < 1e-8 ? 0 : Math.Clamp(Spherical.Dot(a, b) / (na * nb), -1, 1);
    }
}
