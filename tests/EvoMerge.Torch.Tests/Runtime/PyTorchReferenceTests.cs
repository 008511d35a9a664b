using System.Runtime.InteropServices;
using System.Text.Json;
using EvoMerge.IO;
using EvoMerge.TestSupport;
using EvoMerge.Torch.Model;
using EvoMerge.Torch.Runtime;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Tests.Runtime;

/// <summary>
/// The forward against an independent one: <c>llama_reference.py</c> (plain PyTorch in float64, written from the
/// Hugging Face modelling code) over the same config.json and safetensors, which this runtime saved and reloads.
/// </summary>
public class PyTorchReferenceTests
{
    [PythonReferenceFact("torch")]
    public void LlamaWithGqaAndLlama3RopeScalingMatchesPyTorch() => Check(TinyModels.Config(kvHeads: 2) with
    {
        RopeScaling = new RopeScaling("llama3", Factor: 4, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 64),
        RopeTheta = 500000,
    }, "LlamaForCausalLM");

    [PythonReferenceFact("torch")]
    public void Qwen2WithBiasesAndTiedEmbeddingsMatchesPyTorch() =>
        Check(TinyModels.Config(tied: true, bias: true, kvHeads: 1), "Qwen2ForCausalLM");

    [PythonReferenceFact("torch")]
    public void LlamaWithAttentionBiasOnAllFourProjectionsMatchesPyTorch() =>
        Check(TinyModels.Config(bias: true) with { OutputProjectionBias = true }, "LlamaForCausalLM");

    [PythonReferenceFact("torch")]
    public void MistralWithLinearRopeScalingMatchesPyTorch() => Check(TinyModels.Config(kvHeads: 4) with
    {
        RopeScaling = new RopeScaling("linear", Factor: 2),
    }, "MistralForCausalLM");

    static void Check(LlamaConfig config, string architecture)
    {
        string dir = Path.Combine(Path.GetTempPath(), "evomerge-ref-" + Guid.NewGuid().ToString("N"));
        try
        {
            using (var original = TinyModels.Random(config, seed: 21)) ModelWriter.Save(original, dir, DType.F32, architecture);
            using var folder = ModelFolder.Open(dir);
            var reloaded = LlamaConfig.From(folder.Config!, dir);
            Assert.Equal((config.AttentionBias, config.OutputProjectionBias), (reloaded.AttentionBias, reloaded.OutputProjectionBias));
            Assert.Equal(config.RopeScaling, reloaded.RopeScaling);
            using var model = new LlamaForCausalLM(reloaded);
            model.eval();
            new Weights.ResidentWeights(model, reloaded.TieWordEmbeddings).CopyFrom(folder.Weights);

            long[][] ids = [[1, 5, 9, 2, 33, 60, 7, 7, 12, 40, 3, 8, 19, 22, 50, 11, 4, 2, 9, 30], [3, 3, 17, 48, 0, 59, 21, 6, 1, 2, 44, 45, 46, 13, 14, 15, 36, 37, 38, 39]];
            string idsPath = Path.Combine(dir, "ids.json"), outPath = Path.Combine(dir, "logits.bin");
            File.WriteAllText(idsPath, JsonSerializer.Serialize(ids));
            string script = Path.Combine(AppContext.BaseDirectory, "Reference", "llama_reference.py");
            var (code, _, err) = PythonReference.Run($"{script} {dir} {idsPath} {outPath}", TimeSpan.FromMinutes(2));
            Assert.True(code == 0, err);
            var expected = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(outPath)).ToArray();

            using var scope = NewDisposeScope();
            var actual = model.forward(tensor(ids.SelectMany(r => r).ToArray(), [2L, ids[0].Length])).data<float>().ToArray();
            Assert.Equal(expected.Length, actual.Length);
            double maxErr = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
            double scale = expected.Max(Math.Abs);
            // float32 against float64: agreement to ~1e-5 of the logit scale.
            Assert.True(maxErr < 1e-4 * Math.Max(1, scale), $"max |torchsharp - pytorch| = {maxErr} (logits up to {scale})");
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }
}
