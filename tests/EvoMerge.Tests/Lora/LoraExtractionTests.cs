using System.Text.Json;
using EvoMerge.IO;
using EvoMerge.Lora;
using EvoMerge.Tests.Merge;
using EvoMerge.TestSupport;

namespace EvoMerge.Tests.Lora;

/// <summary>
/// <c>extract-lora</c>: the adapter folded back onto the base gives the fine-tune (at full rank), its error at rank r is
/// the optimal one (numpy's SVD tail share), and an independent reader of the PEFT format (Fixtures/lora/peft_reference.py)
/// loads it.
/// </summary>
public class LoraExtractionTests : IDisposable
{
    static readonly string Script = Path.Combine(SharedData.RepoRoot, "tests", "EvoMerge.Tests", "Fixtures", "lora", "peft_reference.py");
    readonly LoraFixture _f = new();

    public void Dispose() => _f.Dispose();

    LoraAdapter Extract(string output, LoraExtractionOptions options)
    {
        using var tuned = ModelFolder.Open(_f.FineTune);
        using var baseModel = ModelFolder.Open(_f.Base.Path);
        var adapter = LoraExtractor.Extract(tuned, baseModel, options);
        PeftAdapterWriter.Write(adapter, tuned, _f.Base.Path, _f.Out(output));
        return adapter;
    }

    /// <summary>The adapter's tensors as float32, by key.</summary>
    static Dictionary<string, (long[] Shape, float[] Values)> ReadAdapter(string folder)
    {
        using var file = SafetensorsFile.Open(Path.Combine(folder, PeftAdapterWriter.WeightsFileName));
        return file.Tensors.ToDictionary(t => t.Name, t =>
        {
            var values = new float[t.ElementCount];
            FloatConversion.ToFloat32(file.GetBytes(t), t.DType, values);
            return (t.Shape, values);
        });
    }

    [Fact]
    public void Folded_back_at_full_rank_it_reproduces_the_fine_tune()
    {
        Extract("full", new LoraExtractionOptions { Rank = 64, Threads = 2, SaveModules = ["norm"] });
        var adapter = ReadAdapter(_f.Out("full"));
        foreach (var (name, tuned) in _f.FineTuneWeights)
        {
            var folded = (float[])_f.Base.Weights.Get(name).Clone();
            string module = name[..name.LastIndexOf('.')];
            if (adapter.TryGetValue($"base_model.model.{module}.lora_A.weight", out var a))
            {
                var b = adapter[$"base_model.model.{module}.lora_B.weight"];
                int rows = (int)b.Shape[0], rank = (int)b.Shape[1], cols = (int)a.Shape[1];
                Assert.Equal(rank, (int)a.Shape[0]);
                for (int i = 0; i < rows; i++)
                    for (int j = 0; j < cols; j++)
                    {
                        double sum = 0;
                        for (int p = 0; p < rank; p++) sum += (double)b.Values[i * rank + p] * a.Values[p * cols + j];
                        folded[i * cols + j] += (float)sum;
                    }
            }
            else if (adapter.TryGetValue("base_model.model." + name, out var whole)) folded = whole.Values;
            for (int i = 0; i < tuned.Length; i++) Assert.True(Math.Abs(folded[i] - tuned[i]) < 2e-6, $"{name}[{i}]: {folded[i]} vs {tuned[i]}");
        }
        Assert.Equal(_f.FineTuneWeights["model.norm.weight"], adapter["base_model.model.model.norm.weight"].Values);
    }

    [PythonReferenceFact("numpy")]
    public void At_rank_r_the_error_is_the_tail_share_of_numpys_singular_values()
    {
        // Rank 3 of a rank-6 difference: sketches of 3 + 4 columns are narrower than every module but up/down's 12 rows.
        var extracted = Extract("r3", new LoraExtractionOptions { Rank = 3, Oversample = 4, Threads = 2 });
        var reference = RunReference("r3");
        foreach (var m in extracted.Modules)
        {
            var numpy = reference.GetProperty("modules").GetProperty(m.Name);
            double tail = numpy.GetProperty("tail").GetDouble(), error = numpy.GetProperty("error").GetDouble();
            Assert.Equal(3, numpy.GetProperty("rank").GetInt32());
            Assert.True(tail > 0.05, $"{m.Name}: the test needs a visible tail, got {tail}");
            Assert.True(Math.Abs(error - tail) <= 1e-4 * tail, $"{m.Name}: error {error} vs numpy tail share {tail}");
            Assert.True(Math.Abs(m.RelativeError - error) <= 1e-4 * error, $"{m.Name}: reported {m.RelativeError} vs measured {error}");
            Assert.True(Math.Abs(m.OptimalRelativeError!.Value - tail) <= 1e-6, $"{m.Name}: reported optimum {m.OptimalRelativeError} vs {tail}");
        }
    }

    [PythonReferenceFact("numpy")]
    public void A_hand_written_PEFT_reader_loads_per_module_ranks_and_saved_modules()
    {
        // sv-epsilon 1e-4 keeps the 6 real singular values of each difference and drops float noise: rank 6 < r = 16.
        var extracted = Extract("eps", new LoraExtractionOptions { Rank = 16, SvEpsilon = 1e-4, Threads = 2, SaveModules = ["norm", "lm_head"] });
        Assert.All(extracted.Modules, m => Assert.Equal(Math.Min(LoraFixture.DeltaRank, Math.Min(m.Rows, m.Cols)), m.Rank));
        var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(_f.Out("eps"), PeftAdapterWriter.ConfigFileName))).RootElement;
        Assert.Equal(16, config.GetProperty("r").GetInt32());
        Assert.Equal(6, config.GetProperty("rank_pattern").GetProperty("model.layers.0.self_attn.q_proj").GetInt32());
        var reference = RunReference("eps");
        Assert.True(reference.GetProperty("max_abs_diff").GetDouble() < 2e-6, reference.ToString());
        Assert.Equal(["lm_head.weight", "model.norm.weight"], reference.GetProperty("saved").EnumerateArray().Select(e => e.GetString()!));
        foreach (var m in extracted.Modules)
            Assert.Equal(m.Rank, reference.GetProperty("modules").GetProperty(m.Name).GetProperty("rank").GetInt32());
    }

    JsonElement RunReference(string adapter)
    {
        var run = PythonReference.Run($"\"{Script}\" \"{_f.Out(adapter)}\" \"{_f.Base.Path}\" \"{_f.FineTune}\"", TimeSpan.FromMinutes(2));
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        return JsonDocument.Parse(run.Stdout).RootElement;
    }

    [Fact]
    public void Differences_a_LoRA_cannot_carry_are_reported_and_bad_requests_refused()
    {
        using var tuned = ModelFolder.Open(_f.FineTune);
        using var baseModel = ModelFolder.Open(_f.Base.Path);
        var adapter = LoraExtractor.Extract(tuned, baseModel, new LoraExtractionOptions { Rank = 2, Threads = 1 });
        Assert.Contains(adapter.Warnings, w => w.Contains("model.norm.weight") && w.Contains("--save-module norm"));
        Assert.DoesNotContain(adapter.Warnings, w => w.Contains("embed_tokens") || w.Contains("input_layernorm"));

        var e = Assert.Throws<EvoMergeException>(() => LoraExtractor.Extract(tuned, baseModel, new LoraExtractionOptions { Rank = 2, SaveModules = ["lm_haed"] }));
        Assert.Contains("lm_haed", e.Message);
        Assert.Contains("did you mean 'lm_head'", e.Message);
        e = Assert.Throws<EvoMergeException>(() => LoraExtractor.Extract(tuned, baseModel, new LoraExtractionOptions { Rank = 0 }));
        Assert.Contains("--rank", e.Message);

        var other = TestModels.Write(_f.Root, "wide", 3, hidden: 12);
        using var wide = ModelFolder.Open(other.Path);
        e = Assert.Throws<EvoMergeException>(() => LoraExtractor.Extract(tuned, wide, new LoraExtractionOptions { Rank = 2 }));
        Assert.Contains("shape", e.Message);

        Directory.CreateDirectory(_f.Out("taken"));
        File.WriteAllText(Path.Combine(_f.Out("taken"), "x"), "");
        e = Assert.Throws<EvoMergeException>(() => PeftAdapterWriter.Write(adapter, tuned, "base", _f.Out("taken")));
        Assert.Contains("not empty", e.Message);
        Assert.False(Directory.Exists(_f.Out("taken") + ".partial"));
    }

    [Fact]
    public void A_non_finite_difference_is_refused_naming_the_tensor()
    {
        string broken = Path.Combine(_f.Root, "broken");
        var specs = _f.FineTuneWeights.Select(kv => { _f.Base.Weights.TryGetShape(kv.Key, out var s); return new TensorSpec(kv.Key, DType.F32, s); }).ToList();
        using (var writer = SafetensorsWriter.Create(broken, specs))
        {
            foreach (var (name, values) in _f.FineTuneWeights)
            {
                var copy = (float[])values.Clone();
                if (name == "model.layers.1.mlp.down_proj.weight") copy[3] = float.NaN;
                writer.WriteFloat32(name, copy);
            }
            writer.Complete();
        }
        File.Copy(Path.Combine(_f.FineTune, ModelFolder.ConfigFileName), Path.Combine(broken, ModelFolder.ConfigFileName));
        using var tuned = ModelFolder.Open(broken);
        using var baseModel = ModelFolder.Open(_f.Base.Path);
        var e = Assert.Throws<EvoMergeException>(() => LoraExtractor.Extract(tuned, baseModel, new LoraExtractionOptions { Rank = 2, Threads = 1 }));
        Assert.Contains("model.layers.1.mlp.down_proj.weight", e.Message);
        Assert.Contains("non-finite", e.Message);
    }

    [Fact]
    public void An_unchanged_module_gets_zero_factors_of_rank_one()
    {
        using var baseModel = ModelFolder.Open(_f.Base.Path);
        using var same = ModelFolder.Open(_f.Base.Path);
        var adapter = LoraExtractor.Extract(same, baseModel, new LoraExtractionOptions { Rank = 4, Threads = 1 });
        Assert.All(adapter.Modules, m => { Assert.Equal(1, m.Rank); Assert.All(m.A, v => Assert.Equal(0f, v)); Assert.All(m.B, v => Assert.Equal(0f, v)); });
    }
}
