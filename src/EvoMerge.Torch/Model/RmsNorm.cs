using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Model;

/// <summary>Root-mean-square layer norm as Llama defines it: normalised in float32, scaled by a learned weight.</summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    readonly Parameter weight;
    readonly double eps;

    public RmsNorm(int size, double eps, Device? device = null, ScalarType dtype = ScalarType.Float32) : base(nameof(RmsNorm))
    {
        weight = new Parameter(ones(size, dtype: dtype, device: device));
        this.eps = eps;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        // Statistics in float32 even for bf16 activations, then cast back before the weight (as transformers does).
        var x32 = x.to_type(ScalarType.Float32);
        var normed = x32 * rsqrt(x32.pow(2).mean([-1], keepdim: true) + eps);
        return (weight * normed.to_type(x.dtype)).MoveToOuterDisposeScope();
    }
}
