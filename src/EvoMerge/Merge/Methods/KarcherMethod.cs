using System.Numerics.Tensors;
using EvoMerge.Merge.Kernels;

namespace EvoMerge.Merge.Methods;

/// <summary>
/// The Karcher (Riemannian) mean of the models' directions on the unit sphere, scaled by their mean norm: iterate
/// μ ← exp_μ(Σ wᵢ log_μ(uᵢ) / Σ wᵢ) until the step is below tol. The paper's mean is weighted; mergekit's ignores
/// weights, which <see cref="MergeCompat.Mergekit"/> reproduces.
/// </summary>
public sealed class KarcherMethod : MergeMethod
{
    public override string Name => "karcher";
    public override string Description => "weighted Riemannian (Karcher) mean of the models on the sphere";
    public override string Reference => "https://en.wikipedia.org/wiki/Karcher_mean";
    public override BaseModelUse BaseUse => BaseModelUse.Ignored;
    static readonly MethodParameters Declared = new();
    static readonly GlobalNumber MaxIter = Declared.Number("max_iter", 10, "maximum fixed-point iterations");
    static readonly GlobalNumber Tol = Declared.Number("tol", 1e-5, "stop when the tangent step's norm falls below this");
    static readonly ModelNumber Weight = Declared.PerModelNumber("weight", 1.0, "this model's weight (ignored with compat: mergekit)");
    protected override MethodParameters Parameters => Declared;

    public override int ScratchBuffers(int models) => 1;

    public override void Merge(TensorMergeContext input, Span<float> output)
    {
        int n = input.ModelCount, len = input.Length;
        if (n == 1) { input.Model(0).CopyTo(output); return; }
        Span<double> weights = stackalloc double[n];
        Span<double> norms = stackalloc double[n];
        double weightSum = 0, meanNorm = 0;
        for (int m = 0; m < n; m++)
        {
            norms[m] = Spherical.Norm(input.Model(m));
            weights[m] = input.Compat == MergeCompat.Mergekit || norms[m] < 1e-8 ? (norms[m] < 1e-8 ? 0 : 1) : input[Weight, m];
            weightSum += weights[m];
            meanNorm += weights[m] * norms[m];
        }
        if (Math.Abs(weightSum) < 1e-12) { output.Clear(); return; }
        meanNorm /= weightSum;

        // μ starts at the normalised weighted mean of the unit vectors.
        var mu = output;
        mu.Clear();
        for (int m = 0; m < n; m++)
            if (weights[m] != 0) TensorPrimitives.MultiplyAdd(input.Model(m), (float)(weights[m] / norms[m]), mu, mu);
        Normalize(mu);
        var step = input.Scratch(0, len);
        for (int iteration = 0; iteration < (int)input[MaxIter]; iteration++)
        {
            step.Clear();
            for (int m = 0; m < n; m++)
            {
                if (weights[m] == 0) continue;
                var x = input.Model(m);
                double cos = Math.Clamp(Spherical.Dot(mu, x) / norms[m], -1, 1), theta = Math.Acos(cos);
                if (theta < 1e-12) continue;
                // log_μ(u) = θ/sin θ · (u − cos θ · μ), accumulated with weight w/Σw.
                double scale = weights[m] / weightSum * theta / Math.Sin(theta);
                TensorPrimitives.MultiplyAdd(x, (float)(scale / norms[m]), step, step);
                TensorPrimitives.MultiplyAdd(mu, (float)(-scale * cos), step, step);
            }
            double stepNorm = Spherical.Norm(step);
            if (stepNorm < input[Tol]) break;
            // exp_μ(v) = cos‖v‖ · μ + sin‖v‖ · v/‖v‖.
            TensorPrimitives.Multiply(mu, (float)Math.Cos(stepNorm), mu);
            TensorPrimitives.MultiplyAdd(step, (float)(Math.Sin(stepNorm) / stepNorm), mu, mu);
            Normalize(mu);
        }
        TensorPrimitives.Multiply(mu, (float)meanNorm, output);
    }

    static void Normalize(Span<float> v)
    {
        double norm = Spherical.Norm(v);
        if (norm > 1e-12) TensorPrimitives.Multiply(v, (float)(1 / norm), v);
    }
}
