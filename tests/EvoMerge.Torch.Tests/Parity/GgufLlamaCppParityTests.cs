using EvoMerge.Cli;
using EvoMerge.IO.Gguf;
using EvoMerge.TestSupport;
using Xunit.Abstractions;

namespace EvoMerge.Torch.Tests.Parity;

/// <summary>
/// A random-weight Llama written as a Hugging Face folder and exported with <c>evomerge export gguf</c> runs in
/// llama.cpp and gives the same next-token logits, at every position of a batch of prompts, as an independent
/// PyTorch forward (float64) of the same weights.
/// </summary>
public sealed class GgufLlamaCppParityTests(ITestOutputHelper output) : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("gguf-parity-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>Four prompts from BOS, 1 to 40 tokens long, seeded.</summary>
    public static IReadOnlyList<int[]> Prompts(int vocab)
    {
        var rng = new Random(7);
        return [.. new[] { 1, 5, 17, 40 }.Select(n => new[] { 1 }.Concat(Enumerable.Range(0, n - 1).Select(_ => rng.Next(3, vocab))).ToArray())];
    }

    /// <summary>Exports through the CLI verb, as a user would.</summary>
    public static string Export(string hfFolder, string outPath, GgufOutputType type)
    {
        int code = CliApp.Run(["export", "gguf", hfFolder, outPath, "--type", type.ToString().ToLowerInvariant()]);
        Assert.Equal(0, code);
        return outPath;
    }

    // Tolerances are max |Δ| over all logits relative to the logits' standard deviation. The reference rounds
    // the weights as the export stores them and the matmul inputs as llama.cpp's CPU dot products do, so what
    // remains is float32 accumulation (f32, bf16: measured 1e-5 %) and llama.cpp's own f16/Q8_0 kernels
    // (measured 0.11 % and 0.75 %). A wrong scale, block layout or RoPE order moves logits by tens of percent.
    [PythonReferenceTheory("torch")]
    [InlineData(GgufOutputType.F32, 1e-4)]
    [InlineData(GgufOutputType.BF16, 1e-4)]
    [InlineData(GgufOutputType.F16, 5e-3)]
    [InlineData(GgufOutputType.Q8_0, 2e-2)]
    public void LlamaCppLogitsMatchPyTorchOnTheSameWeights(GgufOutputType type, double tolerance)
    {
        var model = RandomLlamaModel.Create(seed: 1);
        string hf = Path.Combine(dir, "hf");
        RandomLlamaModel.WriteFolder(hf, model);
        string gguf = Export(hf, Path.Combine(dir, "model.gguf"), type);

        int vocab = model.Config.VocabSize;
        var prompts = Prompts(vocab);
        var reference = PythonLlama.Logits(hf, prompts, vocab, type == GgufOutputType.F32 ? null : type.ToString().ToLowerInvariant());
        var llama = LlamaCpp.Logits(gguf, prompts);
        var cmp = LogitComparison.Of(reference, llama, vocab);
        output.WriteLine($"{type}: llama.cpp vs PyTorch: {cmp}");
        Assert.True(cmp.LogitScale > 1, $"logits too flat to show layout errors: {cmp}");
        Assert.True(cmp.Relative <= tolerance, cmp.ToString());
    }

    [PythonReferenceTheory("torch")]
    [InlineData("llama3")]
    [InlineData("linear")]
    public void RopeScalingIsExportedAsLlamaCppAppliesIt(string kind)
    {
        // Original context 64 with head_dim 16 puts RoPE frequencies on all three sides of the llama3 band.
        var plain = RandomLlamaModel.Create(seed: 5);
        var model = plain with { Config = plain.Config with { RopeScaling = new Model.RopeScaling(kind, 8, 1, 4, 64) } };
        string hf = Path.Combine(dir, "scaled"), hfPlain = Path.Combine(dir, "plain");
        RandomLlamaModel.WriteFolder(hf, model);
        RandomLlamaModel.WriteFolder(hfPlain, plain);
        string gguf = Export(hf, Path.Combine(dir, "scaled.gguf"), GgufOutputType.F32);

        int vocab = model.Config.VocabSize;
        var prompts = Prompts(vocab);
        var reference = PythonLlama.Logits(hf, prompts, vocab);
        // The scaling must matter at these positions, or agreement below would prove nothing.
        var unscaled = LogitComparison.Of(reference, PythonLlama.Logits(hfPlain, prompts, vocab), vocab);
        Assert.True(unscaled.Relative > 0.05, $"scaling barely changes the logits: {unscaled}");
        ThreeWayParity.AssertAgree($"rope_scaling {kind}", hf, gguf, prompts, vocab, output, reference);
    }

    [PythonReferenceFact("torch")]
    public void Qwen2ExportWithBiasesAndByteLevelBpeMatchesPyTorchAndTheRuntime()
    {
        var model = RandomLlamaModel.Create(seed: 4, qwen2: true);
        string hf = Path.Combine(dir, "qwen2");
        RandomLlamaModel.WriteFolder(hf, model);
        string gguf = Export(hf, Path.Combine(dir, "qwen2.gguf"), GgufOutputType.F32);

        int vocab = model.Config.VocabSize;
        ThreeWayParity.AssertAgree("qwen2 f32", hf, gguf, Prompts(vocab), vocab, output);
    }
}
