using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Model;

/// <summary>
/// Mixtral's MLP (Hugging Face <c>block_sparse_moe</c>): a router <c>gate</c> [experts × hidden] scores each token,
/// the softmax over all experts is taken in float32, the <c>k</c> largest are kept and renormalised to sum to one,
/// and the token's output is the weighted sum of those experts' SwiGLU outputs. Each expert runs only on the
/// tokens routed to it.
/// </summary>
public sealed class SparseMoeBlock : nn.Module<Tensor, Tensor>
{
    readonly Linear gate;
    readonly ModuleList<MixtralExpert> experts;
    readonly MixtralExpert[] expertArray;
    readonly int topK;

    public SparseMoeBlock(LlamaConfig c, Device? device, ScalarType dtype) : base(nameof(SparseMoeBlock))
    {
        gate = nn.Linear(c.HiddenSize, c.NumExperts, hasBias: false, device: device, dtype: dtype);
        expertArray = Enumerable.Range(0, c.NumExperts).Select(_ => new MixtralExpert(c, device, dtype)).ToArray();
        experts = nn.ModuleList(expertArray);
        topK = c.ExpertsPerToken;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var flat = x.reshape(-1, x.shape[^1]);
        var probabilities = nn.functional.softmax(Projection.Apply(gate, flat).to_type(ScalarType.Float32), 1);
        var (weights, chosen) = probabilities.topk(topK, dim: 1);
        weights = (weights / weights.sum(1, keepdim: true)).to_type(x.dtype);
        var output = zeros_like(flat);
        for (int e = 0; e < expertArray.Length; e++)
        {
            // (token, slot) pairs that chose expert e; a token picks an expert at most once, so tokens are distinct.
            var hits = nonzero(chosen.eq(e));
            if (hits.shape[0] == 0) continue;
            var tokens = hits.select(1, 0);
            var weight = weights.index(tokens, hits.select(1, 1)).unsqueeze(1);
            output.index_add_(0, tokens, expertArray[e].forward(flat.index_select(0, tokens)) * weight, 1);
        }
        return output.view(x.shape).MoveToOuterDisposeScope();
    }
}

/// <summary>One Mixtral expert: w2(silu(w1·x) · w3·x), a SwiGLU MLP with Mixtral's parameter names.</summary>
public sealed class MixtralExpert : nn.Module<Tensor, Tensor>
{
    readonly Linear w1, w2, w3;

    public MixtralExpert(LlamaConfig c, Device? device, ScalarType dtype) : base(nameof(MixtralExpert))
    {
        w1 = nn.Linear(c.HiddenSize, c.IntermediateSize, hasBias: false, device: device, dtype: dtype);
        w2 = nn.Linear(c.IntermediateSize, c.HiddenSize, hasBias: false, device: device, dtype: dtype);
        w3 = nn.Linear(c.HiddenSize, c.IntermediateSize, hasBias: false, device: device, dtype: dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return Projection.Apply(w2, nn.functional.silu(Projection.Apply(w1, x)) * Projection.Apply(w3, x)).MoveToOuterDisposeScope();
    }
}
