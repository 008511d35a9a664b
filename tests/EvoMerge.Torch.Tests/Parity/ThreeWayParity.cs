using Xunit.Abstractions;

namespace EvoMerge.Torch.Tests.Parity;

/// <summary>The float32 three-way check: llama.cpp on the GGUF and EvoMerge's runtime on the folder both match PyTorch.</summary>
public static class ThreeWayParity
{
    /// <summary>float32 throughout, so only summation order differs: measured ≈ 1e-5 of the logit spread, bound 1e-4.</summary>
    public const double Float32Tolerance = 1e-4;

    public static void AssertAgree(string label, string hfFolder, string gguf, IReadOnlyList<int[]> prompts, int vocab,
        ITestOutputHelper output, List<float[]>? reference = null)
    {
        reference ??= PythonLlama.Logits(hfFolder, prompts, vocab);
        var llama = LogitComparison.Of(reference, LlamaCpp.Logits(gguf, prompts), vocab);
        var runtime = LogitComparison.Of(reference, RuntimeLogits.Of(hfFolder, prompts), vocab);
        output.WriteLine($"{label}: llama.cpp vs PyTorch: {llama}\n{label}: runtime vs PyTorch: {runtime}");
        Assert.True(llama.Relative <= Float32Tolerance, $"llama.cpp: {llama}");
        Assert.True(runtime.Relative <= Float32Tolerance, $"runtime: {runtime}");
    }
}
