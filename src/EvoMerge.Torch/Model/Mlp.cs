using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Model;

/// <summary>SwiGLU feed-forward: down(silu(gate(x)) · up(x)).</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    readonly Linear gate_proj, up_proj, down_proj;

    public Mlp(LlamaConfig c, Device? device, ScalarType dtype) : base(nameof(Mlp))
    {
        gate_proj = nn.Linear(c.HiddenSize, c.IntermediateSize, hasBias: false, device: device, dtype: dtype);
        up_proj = nn.Linear(c.HiddenSize, c.IntermediateSize, hasBias: false, device: device, dtype: dtype);
        down_proj = nn.Linear(c.IntermediateSize, c.HiddenSize, hasBias: false, device: device, dtype: dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var gateUp = Projection.Apply([gate_proj, up_proj], x);
        return Projection.Apply(down_proj, nn.functional.silu(gateUp[0]) * gateUp[1]).MoveToOuterDisposeScope();
    }
}
