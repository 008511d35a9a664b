using System.Numerics.Tensors;
using EvoMerge.Merge.Kernels;

namespace EvoMerge.Merge.Methods;

/// <summary>
/// Arcee Fusion: importance = |x − base| × KL(softmax(x_row) ‖ softmax(base_row)); only entries whose importance reaches
/// median + 1.5·IQR of all importances take the other model's value. Quantiles are exact here (mergekit samples
/// a million entries of larger tensors).
/// </summary>
public sealed class ArceeFusionMethod : MergeMethod
{
    public override string Name => "arcee_fusion";
    public override string Description => "take the other model's entries whose change is an importance outlier";
    public override string Reference => "https://arcee.ai";
    public override BaseModelUse BaseUse => BaseModelUse.Required;
    public override int MaxModels => 1;

    public override int ScratchBuffers(int models) => 4;

    public override void Merge(TensorMergeContext input, Span<float> output)
    {
        int n = input.Length, rows = input.Shape.Length >= 1 ? n / (int)input.Shape[^1] : 1, cols = n / rows;
        var b = input.Base;
        var x = input.Model(0);
        var importance = input.Scratch(0, n);
        var p = input.Scratch(1, cols);
        var q = input.Scratch(2, cols);
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * cols, cols);
            var br = b.Slice(r * cols, cols);
            TensorPrimitives.SoftMax(xr, p);
            TensorPrimitives.SoftMax(br, q);
            double kl = 0;
            for (int c = 0; c < cols; c++)
            {
                double pc = p[c] + 1e-8, qc = q[c] + 1e-8;
                kl += pc * Math.Log(pc / qc);
            }
            for (int c = 0; c < cols; c++) importance[r * cols + c] = (float)(Math.Abs(xr[c] - br[c]) * kl);
        }
        var sorted = input.Scratch(3, n);
        importance.CopyTo(sorted);
        float q1 = RankSelection.Select(sorted, (int)(0.25 * (n - 1)));
        float median = RankSelection.Select(sorted, (int)(0.5 * (n - 1)));
        float q3 = RankSelection.Select(sorted, (int)(0.75 * (n - 1)));
        float threshold = median + 1.5f * (q3 - q1);
        for (int i = 0; i < n; i++) output[i] = importance[i] >= threshold ? x[i] : b[i];
    }
}
