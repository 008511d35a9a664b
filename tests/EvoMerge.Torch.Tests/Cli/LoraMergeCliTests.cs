using System.Text.Json.Nodes;
using EvoMerge.IO;
using EvoMerge.Lora;
using EvoMerge.Torch.Model;
using EvoMerge.Torch.Runtime;
using EvoMerge.Torch.Tests.Runtime;
using TorchSharp;
using static EvoMerge.Torch.Tests.Cli.CliRunner;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Tests.Cli;

/// <summary>
/// A mergekit recipe with a <c>model+lora</c> reference (the LoRA-abliteration recipes of issue 12: task arithmetic
/// of a base and base+lora) through <c>evomerge check</c> and <c>merge</c>, on a tiny Llama and a PEFT adapter written
/// here. The merged model's logits are compared with the base whose weights torch itself changed by
/// (lora_alpha / r)·B·A.
/// </summary>
public sealed class LoraMergeCliTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("evomerge-lora-cli-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    static readonly string[] Targets = ["self_attn.q_proj", "self_attn.v_proj", "mlp.down_proj"];
    const int Rank = 4;
    const double Alpha = 8;

    [Fact]
    public void Task_arithmetic_with_a_peft_lora_reference_merges_to_the_adapted_model()
    {
        var config = TinyModels.Config();
        using var baseModel = TinyModels.Random(config, seed: 3);
        string basePath = Path.Combine(dir, "base"), adapter = Path.Combine(dir, "adapter");
        ModelWriter.Save(baseModel, basePath);

        // The adapter, and the same change made by torch on a copy of the base: W += (alpha / r) · B · A.
        using var expected = TinyModels.Random(config, seed: 3);
        var parameters = expected.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var specs = new List<TensorSpec>();
        var values = new Dictionary<string, float[]>();
        torch.manual_seed(11);
        using (no_grad())
            for (int layer = 0; layer < config.NumLayers; layer++)
                foreach (string target in Targets)
                {
                    string module = $"model.layers.{layer}.{target}";
                    var w = parameters[module + ".weight"];
                    var a = randn(Rank, w.shape[1]) * 0.2;
                    var b = randn(w.shape[0], Rank) * 0.2;
                    w.add_(b.matmul(a) * (Alpha / Rank));
                    specs.Add(new TensorSpec(PeftFormat.LoraAKey(module), DType.F32, a.shape));
                    specs.Add(new TensorSpec(PeftFormat.LoraBKey(module), DType.F32, b.shape));
                    values[PeftFormat.LoraAKey(module)] = a.data<float>().ToArray();
                    values[PeftFormat.LoraBKey(module)] = b.data<float>().ToArray();
                }
        using (var writer = SafetensorsWriter.Create(adapter, specs))
        {
            foreach (var (key, v) in values) writer.WriteFloat32(key, v);
            writer.Complete();
        }
        File.Move(Path.Combine(adapter, SafetensorsModel.SingleFileName), Path.Combine(adapter, PeftFormat.WeightsFileName));
        File.WriteAllText(Path.Combine(adapter, PeftFormat.ConfigFileName), new JsonObject
        {
            ["peft_type"] = "LORA", ["task_type"] = "CAUSAL_LM", ["r"] = Rank, ["lora_alpha"] = Alpha,
            ["target_modules"] = new JsonArray("q_proj", "v_proj", "down_proj"),
        }.ToJsonString());

        string recipe = Path.Combine(dir, "abliterated.yml");
        File.WriteAllText(recipe, $"""
            merge_method: task_arithmetic
            base_model: {basePath}
            models:
              - model: {basePath}+{adapter}
                parameters:
                  weight: 1.0
            dtype: float32
            """);
        var (code, stdout, err) = Run("check", recipe);
        Assert.True(code == 0, err);
        Assert.Contains("6 tensors", stdout + err);
        string output = Path.Combine(dir, "merged");
        (code, _, err) = Run("merge", recipe, output, "--threads", "2");
        Assert.True(code == 0, err);

        using var merged = new LlamaForCausalLM(config, CPU, ScalarType.Float32);
        merged.eval();
        using (var file = SafetensorsModel.Open(output))
        using (no_grad())
            foreach (var (name, p) in merged.named_parameters())
            {
                var v = new float[p.numel()];
                file.ReadFloat32(name, v);
                p.copy_(tensor(v).reshape(p.shape));
            }
        using var ids = TinyModels.Ids(5, 2, 12, config.VocabSize);
        using var inference = no_grad();
        using var want = expected.forward(ids);
        using var got = merged.forward(ids);
        using var original = baseModel.forward(ids);
        Assert.True((want - original).abs().max().item<float>() > 1e-2, "the LoRA changes the logits");
        TinyModels.AssertClose(want, got);
    }
}
