using EvoMerge.Torch.Weights;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Tests.Runtime;

public class ResidentWeightsTests
{
    [Fact]
    public void AcceptingAnotherModelsTensorsMakesTheModelComputeLikeIt()
    {
        var c = TinyModels.Config();
        using var source = TinyModels.Random(c, seed: 1);
        using var target = TinyModels.Random(c, seed: 2);
        var weights = new ResidentWeights(target, tiedHead: false);
        foreach (var (name, p) in source.named_parameters())
            weights.Accept(name, p.shape, p.detach().contiguous().data<float>().ToArray());
        Assert.Empty(weights.Unwritten());
        using var scope = NewDisposeScope();
        var ids = TinyModels.Ids(1, 2, 7, c.VocabSize);
        Assert.True((source.forward(ids) == target.forward(ids)).all().item<bool>());
    }

    [Fact]
    public void Bfloat16ParametersRoundLikeLibtorch()
    {
        var c = TinyModels.Config();
        using var model = TinyModels.Random(c, dtype: ScalarType.BFloat16);
        var weights = new ResidentWeights(model, tiedHead: false);
        var values = Enumerable.Range(0, 32).Select(i => 1f + i * 3.1e-3f - 0.05f * (i % 3)).ToArray();
        weights.Accept("model.norm.weight", [32], values);
        using var scope = NewDisposeScope();
        var expected = tensor(values).to_type(ScalarType.BFloat16);   // libtorch's round-to-nearest-even
        var actual = model.named_parameters().Single(p => p.name == "model.norm.weight").parameter;
        Assert.True((expected == actual).all().item<bool>());
    }

    [Fact]
    public void WrongNamesAndShapesAreUserErrors()
    {
        using var model = TinyModels.Random(TinyModels.Config(tied: true));
        var weights = new ResidentWeights(model, tiedHead: true);
        var e = Assert.Throws<EvoMergeException>(() => weights.Accept("model.layers.9.mlp.up_proj.weight", [48, 32], new float[48 * 32]));
        Assert.Contains("model.layers.9.mlp.up_proj.weight", e.Message);
        e = Assert.Throws<EvoMergeException>(() => weights.Accept("model.norm.weight", [31], new float[31]));
        Assert.Contains("[31]", e.Message);
        weights.Accept("lm_head.weight", [61, 32], new float[61 * 32]);   // a tied checkpoint's copy of the embeddings: skipped
        Assert.DoesNotContain("lm_head.weight", weights.Names);
    }
}
