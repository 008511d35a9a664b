using EvoMerge.Candidates;
using EvoMerge.Torch.Generation;
using EvoMerge.Torch.Model;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Tests.Runtime;

public class LayerPathTests
{
    [Fact]
    public void IdentityPathOverOneModelEqualsTheNormalForward()
    {
        var c = TinyModels.Config(layers: 3);
        using var model = TinyModels.Random(c, seed: 11);
        var path = new LayerPathModel([model], 0, LayerPathModel.Identity(0, 3));
        using var scope = NewDisposeScope();
        var ids = TinyModels.Ids(1, 3, 10, c.VocabSize);
        AssertBitwiseEqual(model.forward(ids), path.Forward(ids));
        Assert.Equal(Generate(model), Generate(path));
    }

    [Fact]
    public void PathThatRepeatsLayersEqualsThePassthroughFrankenmerge()
    {
        var c = TinyModels.Config(layers: 3);
        using var a = TinyModels.Random(c, seed: 1);
        using var b = TinyModels.Random(c, seed: 2);
        // Embeddings and head from b; b's layer 0, a's layer 2 twice, a's layer 0, b's layer 2.
        var steps = new (int Model, int Layer)[] { (1, 0), (0, 2), (0, 2), (0, 0), (1, 2) };
        var path = new LayerPathModel([a, b], headModel: 1, steps.Select(s => new PathStep(s.Model, s.Layer)).ToArray());
        using var stacked = Frankenmerge([a, b], headModel: 1, steps, c);

        using var scope = NewDisposeScope();
        var ids = TinyModels.Ids(4, 2, 12, c.VocabSize);
        TinyModels.AssertClose(stacked.forward(ids), path.Forward(ids));
        // The KV cache has a slot per step, so a repeated layer caches its two uses separately.
        Assert.Equal(Generate(stacked), Generate(path));
    }

    [Fact]
    public void ScaleMultipliesThePreviousBlockOutputBeforeItJoinsTheStream()
    {
        var c = TinyModels.Config(layers: 2);
        using var a = TinyModels.Random(c, seed: 5);
        using var b = TinyModels.Random(c, seed: 6);
        float[] s = [0.7f, 1.6f, 0.4f];
        var steps = new (int Model, int Layer)[] { (0, 0), (1, 1), (0, 1) };
        var path = new LayerPathModel([a, b], 0, steps.Select((x, i) => new PathStep(x.Model, x.Layer, s[i])).ToArray());
        // The same by weights alone: the embeddings times s0 at hop 0; afterwards a block's output is
        // down_proj(...) with no bias, so scaling it by s_i is scaling the previous step's down_proj by s_i.
        using var stacked = Frankenmerge([a, b], 0, steps, c);
        using (no_grad())
        {
            var p = stacked.named_parameters().ToDictionary(x => x.name, x => x.parameter);
            p["model.embed_tokens.weight"].mul_(s[0]);
            p["model.layers.0.mlp.down_proj.weight"].mul_(s[1]);
            p["model.layers.1.mlp.down_proj.weight"].mul_(s[2]);
        }
        // The head is untied (lm_head), so scaling the embedding matrix changes nothing else.
        using var scope = NewDisposeScope();
        var ids = TinyModels.Ids(8, 2, 9, c.VocabSize);
        TinyModels.AssertClose(stacked.forward(ids), path.Forward(ids));
    }

    [Fact]
    public void SetPathSwapsTheCandidateWithoutTouchingWeights()
    {
        var c = TinyModels.Config(layers: 3);
        using var a = TinyModels.Random(c, seed: 1);
        var path = new LayerPathModel([a], 0, [new PathStep(0, 0)]);
        path.SetPath(LayerPathModel.Identity(0, 3));
        using var scope = NewDisposeScope();
        var ids = TinyModels.Ids(2, 1, 6, c.VocabSize);
        AssertBitwiseEqual(a.forward(ids), path.Forward(ids));
        Assert.Throws<EvoMergeException>(() => path.SetPath([new PathStep(0, 3)]));
    }

    /// <summary>A plain model whose layers are copies of the listed (model, layer)s, built from parameter names.</summary>
    static LlamaForCausalLM Frankenmerge(IReadOnlyList<LlamaForCausalLM> models, int headModel, (int Model, int Layer)[] steps, LlamaConfig c)
    {
        var stacked = new LlamaForCausalLM(c with { NumLayers = steps.Length });
        stacked.eval();
        var sources = models.Select(m => m.named_parameters().ToDictionary(x => x.name, x => x.parameter)).ToArray();
        using (no_grad())
            foreach (var (name, p) in stacked.named_parameters())
            {
                if (!name.StartsWith("model.layers.")) { p.copy_(sources[headModel][name]); continue; }
                var parts = name.Split('.', 4);   // model, layers, N, rest
                var (m, l) = steps[int.Parse(parts[2])];
                p.copy_(sources[m][$"model.layers.{l}.{parts[3]}"]);
            }
        return stacked;
    }

    static IReadOnlyList<int>[] Generate(ICausalLM model) =>
        TokenGenerator.Generate(model, [[1, 5, 9, 2], [7]], new SamplingOptions(MaxNewTokens: 6), eosId: null).ToArray();

    static void AssertBitwiseEqual(Tensor expected, Tensor actual) =>
        Assert.True((expected == actual).all().item<bool>(), $"max abs difference {(expected - actual).abs().max().item<float>()}");
}
