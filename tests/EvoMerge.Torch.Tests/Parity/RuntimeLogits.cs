using EvoMerge.Torch.Model;
using EvoMerge.Torch.Weights;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Tests.Parity;

/// <summary>Next-token logits from EvoMerge's own runtime, laid out as the other references lay them out.</summary>
public static class RuntimeLogits
{
    public static List<float[]> Of(HfModelFixture fixture, IReadOnlyList<int[]> prompts, ScalarType dtype = ScalarType.Float32)
    {
        set_num_threads(1);
        using var model = new LlamaForCausalLM(fixture.Config, CPU, dtype);
        var weights = new ResidentWeights(model, fixture.Config.TieWordEmbeddings);
        foreach (var (name, shape, values) in fixture.Tensors) weights.Accept(name, shape, values);
        Assert.Empty(weights.Unwritten());
        var results = new List<float[]>();
        foreach (var prompt in prompts)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var ids = tensor(prompt.Select(i => (long)i).ToArray(), [1, prompt.Length]);
            var logits = model.Forward(ids).to(ScalarType.Float32).contiguous();
            results.Add(logits.data<float>().ToArray());
        }
        return results;
    }
}
