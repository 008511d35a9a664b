using EvoMerge.Torch.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Tests.Runtime;

/// <summary>Small random Llama models for runtime tests (seeded, so every run builds the same weights).</summary>
static class TinyModels
{
    static TinyModels() => torch.set_num_threads(2);

    public static LlamaConfig Config(bool tied = false, bool bias = false, int layers = 2, int kvHeads = 2) => new LlamaConfig
    {
        VocabSize = 61, HiddenSize = 32, IntermediateSize = 48, NumLayers = layers, NumHeads = 4, NumKvHeads = kvHeads,
        RmsNormEps = 1e-5f, RopeTheta = 10000, TieWordEmbeddings = tied, AttentionBias = bias,
    }.Validated();

    public static LlamaForCausalLM Random(LlamaConfig config, int seed = 1, ScalarType dtype = ScalarType.Float32)
    {
        torch.manual_seed(seed);
        var m = new LlamaForCausalLM(config, CPU, ScalarType.Float32);
        m.InitializeWeights(0.2);
        // Non-trivial norms and biases, so that a test would notice them being ignored.
        using (no_grad())
            foreach (var (name, p) in m.named_parameters())
                if (name.EndsWith("norm.weight") || name.EndsWith(".bias")) p.uniform_(0.5, 1.5);
        m.eval();
        return dtype == ScalarType.Float32 ? m : Convert(m, config, dtype);
    }

    static LlamaForCausalLM Convert(LlamaForCausalLM m, LlamaConfig config, ScalarType dtype)
    {
        var target = new LlamaForCausalLM(config, CPU, dtype);
        var source = m.state_dict();
        using (no_grad())
            foreach (var (name, p) in target.named_parameters()) p.copy_(source[name]);
        target.eval();
        return target;
    }

    public static Tensor Ids(int seed, long batch, long time, int vocab)
    {
        var g = new Generator((ulong)seed);
        return randint(0, vocab, new[] { batch, time }, generator: g);
    }

    /// <summary>Float32 logits of two computations of the same function agree to 1e-4.</summary>
    public static void AssertClose(Tensor expected, Tensor actual)
    {
        double err = (expected - actual).abs().max().item<float>();
        Assert.True(err < 1e-4, $"max abs difference {err}");
    }
}
