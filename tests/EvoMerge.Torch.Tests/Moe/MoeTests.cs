using System.Text.Json;
using EvoMerge.IO;
using EvoMerge.Moe;
using EvoMerge.TestSupport;
using EvoMerge.Tokenization;
using EvoMerge.Torch.Tests.Parity;
using Xunit.Abstractions;

namespace EvoMerge.Torch.Tests.Moe;

/// <summary>
/// <c>evomerge moe</c>'s Mixtral folder against independent references: its forward in the runtime equals
/// <c>mixtral_reference.py</c> (PyTorch float64, written from the Mixtral architecture), its router rows equal the
/// script's own float64 computation of mergekit-moe's rules, identical experts give the dense model, and the
/// tensors sit where Mixtral's layout says.
/// </summary>
public sealed class MoeTests(ITestOutputHelper output) : IDisposable
{
    readonly MoeModels models = new();

    public void Dispose() => models.Dispose();

    [PythonReferenceTheory("torch")]
    [InlineData("hidden", 1, 2, false)]
    [InlineData("hidden_avg", 2, 3, true)]
    [InlineData("cheap_embed", 2, 3, true)]
    public void Moe_of_fine_tunes_runs_like_a_float64_mixtral_and_its_gates_follow_the_rule(string mode, int perToken, int experts, bool negatives)
    {
        var names = Enumerable.Range(1, experts).Select(i => $"ft{i}").ToList();
        string moe = models.Path("moe");
        var result = models.Build(models.Config("moe", mode, perToken, names, negatives), moe);
        Assert.Equal((RandomLlamaModel.Config.NumLayers, experts, perToken), (result.Layers, result.Experts, result.ExpertsPerToken));

        int vocab = RandomLlamaModel.Config.VocabSize;
        var prompts = MoeModels.LogitPrompts(vocab);
        var runtime = RuntimeLogits.Of(moe, prompts);
        var reference = MixtralReference.Logits(moe, prompts, vocab);
        var cmp = LogitComparison.Of(reference, runtime, vocab);
        output.WriteLine($"{mode}: runtime vs PyTorch float64 Mixtral: {cmp}");
        Assert.True(cmp.Relative <= ThreeWayParity.Float32Tolerance, cmp.ToString());

        // Routing mixes experts: a MoE sending every token to one expert would compute that fine-tune exactly.
        foreach (string ft in names)
        {
            var dense = LogitComparison.Of(RuntimeLogits.Of(models.Path(ft), prompts), runtime, vocab);
            output.WriteLine($"  vs dense {ft}: {dense}");
            Assert.True(dense.Relative > 0.01, $"{ft}: {dense}");
        }

        // Router rows: the script's own float64 forward of the base on the same token ids, mergekit's rule.
        var tokenizer = TokenizerFactory.FromFolder(models.Path("base"), vocab);
        var ids = MoeModels.Prompts.Take(experts).Select(list => list.Select(p => RouterGates.Tokens(tokenizer, p).ToArray()).ToArray()).ToArray();
        (tokenizer as IDisposable)?.Dispose();
        Assert.All(ids.SelectMany(x => x), t => Assert.Equal(1, t[0]));   // BOS first, as mergekit's bos_token + prompt
        var spec = new
        {
            mode,
            experts = ids.Select((positive, e) => new { positive, negative = negatives ? new[] { ids[(e + 1) % experts][0] } : [] }).ToArray(),
        };
        var expected = MixtralReference.Gates(models.Path("base"), JsonSerializer.Serialize(spec));
        int hidden = RandomLlamaModel.Config.HiddenSize;
        double worst = 0;
        for (int l = 0; l < result.Layers; l++)
        {
            var gate = MoeModels.Read(moe, MoeBuilder.GateName(l));
            Assert.Equal(experts * hidden, gate.Length);
            for (int i = 0; i < gate.Length; i++) worst = Math.Max(worst, Math.Abs(gate[i] - expected[l * experts * hidden + i]));
        }
        output.WriteLine($"  gate rows: max |runtime − float64 reference| = {worst:g3}");
        Assert.True(worst < 2e-5, $"gate rows differ by {worst}");
    }

    [Fact]
    public void Identical_experts_give_the_dense_model()
    {
        string moe = models.Path("moe");
        var config = models.Config("same", "random", 2, ["base", "base"]);
        models.Build(config, moe, allowIdentical: true);
        var prompts = MoeModels.LogitPrompts(RandomLlamaModel.Config.VocabSize);
        var cmp = LogitComparison.Of(RuntimeLogits.Of(models.Path("base"), prompts), RuntimeLogits.Of(moe, prompts), RandomLlamaModel.Config.VocabSize);
        output.WriteLine($"MoE of [base, base] vs base: {cmp}");
        // Renormalised weights sum to one, so w·y + (1 − w)·y = y up to float rounding.
        Assert.True(cmp.Relative <= 1e-5, cmp.ToString());
    }

    [Fact]
    public void Tensors_and_config_follow_the_mixtral_layout()
    {
        string moe = models.Path("moe");
        var result = models.Build(models.Config("layout", "cheap_embed", 2, ["ft2", "ft1", "ft3"], dtype: "bfloat16"), moe);
        Assert.Equal(DType.BF16, result.DType);
        using var weights = SafetensorsModel.Open(moe);
        using var ft1 = SafetensorsModel.Open(models.Path("ft1"));
        using var baseWeights = SafetensorsModel.Open(models.Path("base"));
        var c = RandomLlamaModel.Config;
        // Expert 1 is ft1: w1 = gate_proj, w2 = down_proj, w3 = up_proj, rounded to bfloat16.
        foreach (var (w, source) in new[] { ("w1", "gate_proj"), ("w2", "down_proj"), ("w3", "up_proj") })
        {
            string name = $"model.layers.1.block_sparse_moe.experts.1.{w}.weight";
            Assert.Equal(ft1.GetInfo($"model.layers.1.mlp.{source}.weight").Shape, weights.GetInfo(name).Shape);
            Assert.Equal(DType.BF16, weights.GetInfo(name).DType);
            var expected = MoeModels.Read(models.Path("ft1"), $"model.layers.1.mlp.{source}.weight");
            var actual = MoeModels.Read(moe, name);
            for (int i = 0; i < expected.Length; i++) Assert.Equal(FloatConversion.RoundToBFloat16(expected[i]), FloatConversion.RoundToBFloat16(actual[i]));
        }
        Assert.Equal(new long[] { 3, c.HiddenSize }, weights.GetInfo(MoeBuilder.GateName(0)).Shape);
        // Attention, norms, embeddings and head come from the base; no dense MLP is left.
        Assert.Equal(MoeModels.Read(models.Path("base"), "model.layers.0.self_attn.q_proj.weight").Select(FloatConversion.RoundToBFloat16),
            MoeModels.Read(moe, "model.layers.0.self_attn.q_proj.weight").Select(FloatConversion.RoundToBFloat16));
        Assert.DoesNotContain(weights.Tensors, t => t.Name.Contains(".mlp."));
        Assert.Equal(baseWeights.Tensors.Count - 3 * c.NumLayers + c.NumLayers * (1 + 3 * 3), weights.Tensors.Count);

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(moe, "config.json")));
        var root = json.RootElement;
        Assert.Equal("MixtralForCausalLM", root.GetProperty("architectures")[0].GetString());
        Assert.Equal("mixtral", root.GetProperty("model_type").GetString());
        Assert.Equal(3, root.GetProperty("num_local_experts").GetInt32());
        Assert.Equal(2, root.GetProperty("num_experts_per_tok").GetInt32());
        Assert.Equal("bfloat16", root.GetProperty("torch_dtype").GetString());
        Assert.Equal(c.IntermediateSize, root.GetProperty("intermediate_size").GetInt32());
        Assert.True(File.Exists(Path.Combine(moe, "tokenizer.bin")));
        Assert.True(File.Exists(Path.Combine(moe, "mergekit_moe_config.yml")));
    }

    [Fact]
    public void Experts_with_the_same_prompts_are_reported_as_degenerate()
    {
        // Experts 0 and 2 share prompts, so every layer's rows are dependent (mergekit warns; it refuses only all-same).
        string path = models.Path("degenerate.yml");
        File.WriteAllText(path, $"""
            base_model: {models.Path("base")}
            gate_mode: cheap_embed
            experts:
              - source_model: {models.Path("ft1")}
                positive_prompts: ["abc"]
              - source_model: {models.Path("ft2")}
                positive_prompts: ["xyz w270"]
              - source_model: {models.Path("ft3")}
                positive_prompts: ["abc"]
            """);
        var result = models.Build(path, models.Path("moe"));
        Assert.Equal([0, 1], result.DegenerateLayers);
        Assert.Contains(result.Warnings, w => w.StartsWith("all layers have degenerate router rows"));
        // Distinct prompts: no warning.
        Assert.Empty(models.Build(models.Config("fine", "cheap_embed", 2, ["ft1", "ft2", "ft3"]), models.Path("moe2")).DegenerateLayers);
    }

    [Fact]
    public void Residual_scale_scales_w2_and_noise_follows_the_seed()
    {
        string path = models.Path("scaled.yml");
        File.WriteAllText(path, $"""
            base_model: {models.Path("base")}
            gate_mode: random
            dtype: float32
            experts:
              - source_model: {models.Path("ft1")}
                residual_scale: 0.25
              - source_model: {models.Path("ft2")}
                noise_scale: 0.01
            """);
        models.Build(path, models.Path("a"), seed: 1);
        models.Build(path, models.Path("b"), seed: 1);
        models.Build(path, models.Path("c"), seed: 2);
        var down = MoeModels.Read(models.Path("ft1"), "model.layers.1.mlp.down_proj.weight");
        Assert.Equal(down.Select(v => (float)(v * 0.25)), MoeModels.Read(models.Path("a"), "model.layers.1.block_sparse_moe.experts.0.w2.weight"));
        // w1 of expert 0 is untouched; expert 1 carries noise of std 0.01, the same for the same seed.
        Assert.Equal(MoeModels.Read(models.Path("ft1"), "model.layers.1.mlp.gate_proj.weight"), MoeModels.Read(models.Path("a"), "model.layers.1.block_sparse_moe.experts.0.w1.weight"));
        string noisy = "model.layers.0.block_sparse_moe.experts.1.w3.weight";
        var clean = MoeModels.Read(models.Path("ft2"), "model.layers.0.mlp.up_proj.weight");
        var a = MoeModels.Read(models.Path("a"), noisy);
        Assert.Equal(a, MoeModels.Read(models.Path("b"), noisy));
        Assert.NotEqual(a, MoeModels.Read(models.Path("c"), noisy));
        double std = Math.Sqrt(a.Zip(clean, (x, y) => (double)(x - y) * (x - y)).Average());
        Assert.InRange(std, 0.008, 0.012);
    }

    [Fact]
    public void Random_gates_follow_the_seed()
    {
        var config = models.Config("random", "random", 1, ["ft1", "ft2"]);
        models.Build(config, models.Path("a"), seed: 3);
        models.Build(config, models.Path("b"), seed: 3);
        models.Build(config, models.Path("c"), seed: 4);
        string gate = MoeBuilder.GateName(1);
        var a = MoeModels.Read(models.Path("a"), gate);
        Assert.Equal(a, MoeModels.Read(models.Path("b"), gate));
        Assert.NotEqual(a, MoeModels.Read(models.Path("c"), gate));
        // Standard normal entries: mean ≈ 0, variance ≈ 1 over 2 × 64 values.
        double mean = a.Average(), variance = a.Select(x => (x - mean) * (x - mean)).Average();
        Assert.InRange(mean, -0.3, 0.3);
        Assert.InRange(variance, 0.7, 1.3);
    }
}

/// <summary>Runs <c>mixtral_reference.py</c>.</summary>
static class MixtralReference
{
    public static List<float[]> Logits(string modelDir, IReadOnlyList<int[]> prompts, int vocab)
    {
        var bytes = Run("logits", modelDir, JsonSerializer.Serialize(prompts));
        var all = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, all, 0, bytes.Length);
        var result = new List<float[]>();
        int offset = 0;
        foreach (var p in prompts)
        {
            result.Add(all.AsSpan(offset, p.Length * vocab).ToArray());
            offset += p.Length * vocab;
        }
        Assert.Equal(all.Length, offset);
        return result;
    }

    public static double[] Gates(string baseDir, string specJson)
    {
        var bytes = Run("gates", baseDir, specJson);
        var all = new double[bytes.Length / 8];
        Buffer.BlockCopy(bytes, 0, all, 0, bytes.Length);
        return all;
    }

    static byte[] Run(string command, string modelDir, string input)
    {
        string work = Directory.CreateTempSubdirectory("mixtral-ref-").FullName;
        try
        {
            string inPath = Path.Combine(work, "in.json"), outPath = Path.Combine(work, "out.bin");
            File.WriteAllText(inPath, input);
            string script = Path.Combine(AppContext.BaseDirectory, "Reference", "mixtral_reference.py");
            var (code, _, stderr) = PythonReference.Run($"\"{script}\" {command} \"{modelDir}\" \"{inPath}\" \"{outPath}\"", TimeSpan.FromMinutes(2));
            Assert.True(code == 0, "mixtral_reference.py failed: " + stderr);
            return File.ReadAllBytes(outPath);
        }
        finally { Directory.Delete(work, recursive: true); }
    }
}
