using System.Numerics.Tensors;
using EvoMerge.Merge.Kernels;

namespace EvoMerge.Merge.Methods;

/// <summary>
/// mergekit's "multislerp": barycentric interpolation on the hypersphere. Unit vectors are projected onto the tangent
/// space at their normalised weighted mean, averaged there, mapped back with the exponential map and scaled by the
/// weighted mean norm; on task vectors when a base is given.
/// </summary>
public sealed class MultiSlerpMethod : MergeMethod
{
    public override string Name => "multislerp";
    public override string Description => "spherical barycentric interpolation of any number of models";
    public override string Reference => "https://goddard.blog/posts/multislerp-wow-what-a-cool-idea";
    public override BaseModelUse BaseUse => BaseModelUse.Optional;
    static readonly MethodParameters Declared = new();
    static readonly GlobalFlag NormalizeWeights = Declared.Flag("normalize_weights", true, "divide the weights by their sum");
    static readonly GlobalNumber Eps = Declared.Number("eps", 1e-8, "numerical floor for norms");
    static readonly ModelNumber Weight = Declared.PerModelNumber("weight", null, "this model's weight");
    protected override MethodParameters Parameters => Declared;

    public override int ScratchBuffers(int models) => models + 1;

    public override string? CheckValues(IReadOnlyList<double> globals, IReadOnlyList<double[]> perModel) =>
        NormalizeWeights.Of(globals) && perModel.Count > 1 && perModel.Sum(p => Weight.Of(p)) == 0 ? "the weights sum to zero and cannot be normalized" : null;

    public override void Merge(TensorMergeContext input, Span<float> output)
    {
        int n = input.ModelCount, len = input.Length;
        if (n == 1) { input.Model(0).CopyTo(output); return; }
        double eps = input[Eps];
        Span<double> w = stackalloc double[n];
        Span<double> norms = stackalloc double[n];
        double sum = 0;
        for (int m = 0; m < n; m++) sum += w[m] = input[Weight, m];
        if (input[NormalizeWeights])
        {
            if (sum == 0) throw new EvoMergeException($"multislerp: the weights of tensor {input.Name} sum to zero and cannot be normalized");
            for (int m = 0; m < n; m++) w[m] /= sum;
        }
        for (int m = 0; m < n; m++)
        {
            var v = input.Scratch(m + 1, len);
            if (input.HasBase) TensorPrimitives.Subtract(input.Model(m), input.Base, v);
            else input.Model(m).CopyTo(v);
            norms[m] = Spherical.Norm(v);
            TensorPrimitives.Multiply(v, (float)(1 / (norms[m] + eps)), v);
        }
        var mean = input.Scratch(0, len);
        mean.Clear();
        for (int m = 0; m < n; m++) TensorPrimitives.MultiplyAdd(input.Scratch(m + 1, len), (float)w[m], mean, mean);
        double meanNorm = Spherical.Norm(mean);
        if (meanNorm < eps)
            throw new EvoMergeException($"multislerp: the weighted directions of tensor {input.Name} cancel out (antipodal inputs); change the weights");
        TensorPrimitives.Multiply(mean, (float)(1 / meanNorm), mean);

        // Tangent average: Σ wᵢ (uᵢ − (uᵢ·μ) μ), then exp map back to the sphere.
        var tangent = output;
        tangent.Clear();
        double muCoefficient = 0;
        for (int m = 0; m < n; m++)
        {
            var u = input.Scratch(m + 1, len);
            TensorPrimitives.MultiplyAdd(u, (float)w[m], tangent, tangent);
            muCoefficient -= w[m] * Spherical.Dot(u, mean);
        }
        TensorPrimitives.MultiplyAdd(mean, (float)muCoefficient, tangent, tangent);
        double tangentNorm = Spherical.Norm(tangent) + eps;
        double averageNorm = 0;
        for (int m = 0; m < n; m++) averageNorm += norms[m] * w[m];
        TensorPrimitives.Multiply(tangent, (float)(Math.Sin(tangentNorm) / tangentNorm * averageNorm), output);
        TensorPrimitives.MultiplyAdd(mean, (float)(Math.Cos(tangentNorm) * averageNorm), output, output);
        if (input.HasBase) TensorPrimitives.Add(output, input.Base, output);
    }
}
