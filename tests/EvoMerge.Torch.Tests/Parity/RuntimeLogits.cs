using EvoMerge.Torch.Runtime;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Tests.Parity;

/// <summary>Next-token logits from EvoMerge's own runtime, loading the folder as <c>generate</c> and <c>eval</c> do.</summary>
public static class RuntimeLogits
{
    public static List<float[]> Of(string modelFolder, IReadOnlyList<int[]> prompts, ScalarType dtype = ScalarType.Float32)
    {
        set_num_threads(1);
        using var loaded = LoadedModel.Load(modelFolder, CPU, dtype);
        var results = new List<float[]>();
        foreach (var prompt in prompts)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var ids = tensor(prompt.Select(i => (long)i).ToArray(), [1, prompt.Length]);
            results.Add(loaded.Model.Forward(ids).to(ScalarType.Float32).contiguous().data<float>().ToArray());
        }
        return results;
    }
}
