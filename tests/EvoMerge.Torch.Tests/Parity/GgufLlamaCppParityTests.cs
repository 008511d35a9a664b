using EvoMerge.IO.Gguf;
using EvoMerge.TestSupport;
using Xunit.Abstractions;

namespace EvoMerge.Torch.Tests.Parity;

/// <summary>
/// A random-weight Llama exported to GGUF runs in llama.cpp and gives the same next-token logits as an
/// independent PyTorch forward (float64) of the same Hugging Face weights, for a batch of prompts.
/// </summary>
public sealed class GgufLlamaCppParityTests(ITestOutputHelper output) : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("gguf-parity-").FullName;
    static readonly RandomLlamaModel Model = new();

    public void Dispose() => Directory.Delete(dir, recursive: true);

    public static IReadOnlyList<int[]> Prompts(int vocab)
    {
        var rng = new Random(7);
        return [.. new[] { 1, 5, 17, 40 }.Select(n => new[] { 1 }.Concat(Enumerable.Range(0, n - 1).Select(_ => rng.Next(3, vocab))).ToArray())];
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
        var weights = Model.Weights(seed: 1);
        string hf = Path.Combine(dir, "hf");
        Model.WriteHfFolder(hf, weights);
        string gguf = Path.Combine(dir, "model.gguf");
        LlamaGgufExport.Write(gguf, Model.Spec("random-llama"),
            weights.Select(w => new GgufSourceTensor(w.Name, w.Shape, dst => w.Values.CopyTo(dst))).ToList(),
            Model.Vocabulary(), type);

        var prompts = Prompts(Model.Vocab);
        var reference = PythonLlama.Logits(hf, prompts, Model.Vocab, type == GgufOutputType.F32 ? null : type.ToString().ToLowerInvariant());
        var llama = LlamaCpp.Logits(gguf, prompts);
        var cmp = LogitComparison.Of(reference, llama, Model.Vocab);
        output.WriteLine($"{type}: llama.cpp vs PyTorch: {cmp}");
        Assert.True(cmp.LogitScale > 1, $"logits too flat to show layout errors: {cmp}");
        Assert.True(cmp.Relative <= tolerance, cmp.ToString());
    }
}

/// <summary>A theory that needs a Debian Python module as reference; skipped, saying which, when absent.</summary>
public sealed class PythonReferenceTheoryAttribute : TheoryAttribute
{
    public PythonReferenceTheoryAttribute(string module)
    {
        if (!PythonReference.Has(module))
            Skip = $"{PythonReference.Interpreter} with module '{module}' not found (apt-get install python3-{module})";
    }
}
