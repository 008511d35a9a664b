using System.Text.Json;
using EvoMerge.IO;
using EvoMerge.Torch.Runtime;
using EvoMerge.Torch.Tests.Runtime;
using static EvoMerge.Torch.Tests.Cli.CliRunner;

namespace EvoMerge.Torch.Tests.Cli;

/// <summary>
/// <c>extract-lora</c> and multi-stage <c>merge</c> through the real entry point, on models the runtime saved: the
/// adapter folded back at full rank gives the fine-tune, a multi-stage merge needs --intermediate-dir and reuses it.
/// </summary>
public sealed class ToolsCliTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("evomerge-tools-cli-").FullName;
    readonly Dictionary<string, float[]> a, b;

    public ToolsCliTests()
    {
        using var modelA = TinyModels.Random(TinyModels.Config(), seed: 5);
        using var modelB = TinyModels.Random(TinyModels.Config(), seed: 6);
        ModelWriter.Save(modelA, Path.Combine(dir, "a"));
        ModelWriter.Save(modelB, Path.Combine(dir, "b"));
        a = modelA.state_dict().ToDictionary(p => p.Key, p => p.Value.data<float>().ToArray());
        b = modelB.state_dict().ToDictionary(p => p.Key, p => p.Value.data<float>().ToArray());
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Extract_lora_at_full_rank_folds_back_to_the_fine_tune()
    {
        string output = Path.Combine(dir, "adapter");
        var (code, _, err) = Run("extract-lora", Path.Combine(dir, "a"), Path.Combine(dir, "b"), output, "--rank", "4096",
            "--dtype", "float32", "--save-module", "embed_tokens", "--save-module", "norm", "--save-module", "input_layernorm",
            "--save-module", "post_attention_layernorm", "--threads", "2");
        Assert.True(code == 0, err);
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "adapter_config.json")));
        Assert.Equal("LORA", config.RootElement.GetProperty("peft_type").GetString());
        using var adapter = SafetensorsFile.Open(Path.Combine(output, "adapter_model.safetensors"));
        float[] Read(string name)
        {
            var info = adapter.GetInfo(name);
            var values = new float[info.ElementCount];
            FloatConversion.ToFloat32(adapter.GetBytes(info), info.DType, values);
            return values;
        }
        foreach (var (name, tuned) in a)
        {
            string module = name[..name.LastIndexOf('.')];
            float[] folded;
            if (adapter.TryGetInfo($"base_model.model.{module}.lora_A.weight", out var infoA))
            {
                float[] la = Read(infoA.Name), lb = Read($"base_model.model.{module}.lora_B.weight");
                int rank = (int)infoA.Shape[0], cols = (int)infoA.Shape[1], rows = lb.Length / rank;
                folded = (float[])b[name].Clone();
                for (int i = 0; i < rows; i++)
                    for (int j = 0; j < cols; j++)
                        for (int p = 0; p < rank; p++) folded[i * cols + j] += lb[i * rank + p] * la[p * cols + j];
            }
            else folded = Read("base_model.model." + name);
            for (int i = 0; i < tuned.Length; i++) Assert.True(Math.Abs(folded[i] - tuned[i]) < 1e-4, $"{name}[{i}]: {folded[i]} vs {tuned[i]}");
        }

        (code, _, err) = Run("extract-lora", Path.Combine(dir, "a"), Path.Combine(dir, "b"), Path.Combine(dir, "x"));
        Assert.Equal(1, code);
        Assert.Contains("--rank", Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }

    [Fact]
    public void A_multi_stage_merge_needs_an_intermediate_dir_and_reuses_it()
    {
        string recipe = Path.Combine(dir, "multi.yml");
        File.WriteAllText(recipe, $"""
            name: half
            merge_method: linear
            models:
              - model: {Path.Combine(dir, "a")}
                parameters: {"{"}weight: 0.5{"}"}
              - model: {Path.Combine(dir, "b")}
                parameters: {"{"}weight: 0.5{"}"}
            dtype: float32
            ---
            name: out
            merge_method: linear
            models:
              - model: half
                parameters: {"{"}weight: 0.5{"}"}
              - model: {Path.Combine(dir, "a")}
                parameters: {"{"}weight: 0.5{"}"}
            dtype: float32
            """);
        var (code, _, err) = Run("merge", recipe, Path.Combine(dir, "m1"));
        Assert.Equal(1, code);
        Assert.Contains("--intermediate-dir", err);

        string stages = Path.Combine(dir, "stages");
        (code, _, err) = Run("merge", recipe, Path.Combine(dir, "m1"), "--intermediate-dir", stages, "--threads", "2");
        Assert.True(code == 0, err);
        string intermediate = Path.Combine(stages, "half", "model.safetensors");
        var written = File.GetLastWriteTimeUtc(intermediate);
        using (var merged = SafetensorsModel.Open(Path.Combine(dir, "m1")))
            foreach (var (name, values) in a)
            {
                var actual = new float[values.Length];
                merged.ReadFloat32(name, actual);
                for (int i = 0; i < values.Length; i++) Assert.Equal(0.75f * values[i] + 0.25f * b[name][i], actual[i], 1e-6f);
            }
        Thread.Sleep(20); // a rewrite would show a later time
        (code, _, err) = Run("merge", recipe, Path.Combine(dir, "m2"), "--intermediate-dir", stages, "--threads", "2");
        Assert.True(code == 0, err);
        Assert.Equal(written, File.GetLastWriteTimeUtc(intermediate));
        Assert.Equal(File.ReadAllBytes(Path.Combine(dir, "m1", "model.safetensors")), File.ReadAllBytes(Path.Combine(dir, "m2", "model.safetensors")));
    }
}
