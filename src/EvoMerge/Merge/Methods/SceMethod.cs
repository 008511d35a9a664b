using System.Numerics.Tensors;
using EvoMerge.Merge.Kernels;

namespace EvoMerge.Merge.Methods;

/// <summary>
/// SCE (FuseLLM/FuseChat, arXiv 2408.07990): Select the entries whose task vectors vary most across models (top
/// <c>select_topk</c> by variance), Calculate one coefficient per model from its task vector's mean square, Erase
/// contributions against the elected sign, then average what is left.
/// </summary>
public sealed class SceMethod : MergeMethod
{
    public override string Name => "sce";
    public override string Description => "select high-variance entries, weight models by energy, erase sign conflicts";
    public override string Reference => "https://arxiv.org/abs/2408.07990";
    public override BaseModelUse BaseUse => BaseModelUse.Required;
    static readonly MethodParameters Declared = new MethodParameters().AcceptInt8Mask();
    static readonly GlobalNumber SelectTopK = Declared.Number("select_topk", 1.0, "fraction of entries (by variance across models) to keep");
    protected override MethodParameters Parameters => Declared;

    public override int ScratchBuffers(int models) => models + 3;

    public override void Merge(TensorMergeContext input, Span<float> output)
    {
        int n = input.Length, models = input.ModelCount;
        for (int m = 0; m < models; m++)
            TensorPrimitives.Subtract(input.Model(m), input.Base, WholeTaskVectors.Of(input, m));
        double topK = input[SelectTopK];
        if (topK < 1) MaskLowVariance(input, topK);

        Span<double> energy = stackalloc double[models];
        double total = 0;
        for (int m = 0; m < models; m++) total += energy[m] = Spherical.Dot(WholeTaskVectors.Of(input, m), WholeTaskVectors.Of(input, m)) / n;
        Span<float> weights = stackalloc float[models];
        for (int m = 0; m < models; m++) weights[m] = (float)(total == 0 ? 1.0 / models : energy[m] / total);
        // SCE elects signs from the unweighted task vectors, then sums the weighted ones that agree.
        WholeTaskVectors.Combine(input, weights, new CombineRule(Consensus: true, Normalize: true, Lambda: 1, ElectUnweighted: true), output);
    }

    /// <summary>Zeroes, in every task vector, the entries outside the top fraction by variance across models.</summary>
    static void MaskLowVariance(TensorMergeContext input, double topK)
    {
        int n = input.Length, models = input.ModelCount;
        var variance = input.Scratch(models + 1, n);
        var mean = input.Scratch(models + 2, n);
        mean.Clear();
        for (int m = 0; m < models; m++) TensorPrimitives.Add(mean, WholeTaskVectors.Of(input, m), mean);
        TensorPrimitives.Multiply(mean, 1f / models, mean);
        variance.Clear();
        for (int m = 0; m < models; m++)
        {
            var d = WholeTaskVectors.Of(input, m);
            for (int i = 0; i < n; i++) { float e = d[i] - mean[i]; variance[i] += e * e; }
        }
        int nonZero = CountNonZero(variance);
        int k = (int)(Math.Abs(topK) * nonZero);
        // Keep the k largest variances (ranks n−k..n); the mask then applies to every model.
        RankSelection.KeepRankWindow(variance, n - k, n, input.Scratch(0, n));
        for (int m = 0; m < models; m++)
        {
            var d = WholeTaskVectors.Of(input, m);
            for (int i = 0; i < n; i++) if (variance[i] == 0) d[i] = 0;
        }
    }

    static int CountNonZero(ReadOnlySpan<float> values)
    {
        int count = 0;
        foreach (float v in values) if (v != 0) count++;
        return count;
    }
}
