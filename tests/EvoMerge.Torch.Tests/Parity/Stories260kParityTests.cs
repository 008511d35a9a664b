using EvoMerge.IO.Gguf;
using EvoMerge.TestSupport;
using EvoMerge.Tokenization;
using EvoMerge.Torch.Import;
using Xunit.Abstractions;

namespace EvoMerge.Torch.Tests.Parity;

/// <summary>
/// The real pretrained stories260K, imported from llama2.c into a Hugging Face folder and exported to GGUF:
/// llama.cpp, PyTorch and EvoMerge's runtime agree on its logits; llama.cpp, using only what the GGUF carries
/// (weights and tokenizer metadata), tokenizes like EvoMerge and decodes karpathy's published sample.
/// </summary>
public sealed class Stories260kParityTests(ITestOutputHelper output) : IDisposable
{
    const string Checkpoint = "models/stories260k/stories260K.bin";
    const string Tokenizer = "models/stories260k/tok512.bin";
    static readonly string[] Texts =
    [
        "Once upon a time, there was a little girl named Lily.",
        "The cat sat on the mat and looked at the big red ball.",
        "Tom and Sue went to the park. They played all day!",
    ];

    readonly string dir = Directory.CreateTempSubdirectory("stories-parity-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    (HfModelFixture Model, string HfFolder, Llama2cTokenizer Tokenizer) Import()
    {
        var checkpoint = Llama2cCheckpoint.Read(SharedData.PathOf(Checkpoint));
        var model = new HfModelFixture(checkpoint.Config, checkpoint.Tensors);
        string hf = Path.Combine(dir, "stories260k");
        model.WriteFolder(hf, SharedData.PathOf(Tokenizer));
        return (model, hf, Llama2cTokenizer.Load(SharedData.PathOf(Tokenizer), checkpoint.Config.VocabSize));
    }

    [SharedDataAndPythonFact(Checkpoint, "torch")]
    public void LlamaCppRuntimeAndPyTorchAgreeOnLogits()
    {
        var (model, hf, tokenizer) = Import();
        var prompts = Texts.Select(t => tokenizer.Encode(t, addBos: true).ToArray()).ToList();
        int vocab = model.Config.VocabSize;
        string gguf = GgufLlamaCppParityTests.Export(hf, Path.Combine(dir, "stories.gguf"), GgufOutputType.F32);

        var torch = PythonLlama.Logits(hf, prompts, vocab);
        var llama = LogitComparison.Of(torch, LlamaCpp.Logits(gguf, prompts), vocab);
        var runtime = LogitComparison.Of(torch, RuntimeLogits.Of(model, prompts), vocab);
        output.WriteLine($"stories260K f32 — llama.cpp vs PyTorch: {llama}\nruntime vs PyTorch: {runtime}");
        Assert.True(llama.Relative <= 1e-4, llama.ToString());
        Assert.True(runtime.Relative <= 1e-4, runtime.ToString());
    }

    [SharedDataFact(Checkpoint)]
    public void LlamaCppTokenizesLikeEvoMergeAndDecodesThePublishedSample()
    {
        var (_, hf, tokenizer) = Import();
        string gguf = GgufLlamaCppParityTests.Export(hf, Path.Combine(dir, "stories-q8.gguf"), GgufOutputType.Q8_0);
        foreach (string text in Texts.Append(Runtime.Stories260kGoldenTests.Published))
            Assert.Equal(tokenizer.Encode(text, addBos: true), LlamaCpp.Tokenize(gguf, text));

        var expected = tokenizer.Encode(Runtime.Stories260kGoldenTests.Published, addBos: false);
        var generated = LlamaCpp.Greedy(gguf, [1], expected.Count);
        output.WriteLine(tokenizer.Decode(generated));
        Assert.Equal(expected, generated);
    }
}

/// <summary>A fact that needs both a shared-data file and a Debian Python module; skipped, saying which, when absent.</summary>
public sealed class SharedDataAndPythonFactAttribute : FactAttribute
{
    public SharedDataAndPythonFactAttribute(string relativePath, string module)
    {
        if (!SharedData.Has(relativePath)) Skip = $"shared data '{relativePath}' not found under {SharedData.DataRoot}";
        else if (!PythonReference.Has(module)) Skip = $"{PythonReference.Interpreter} with module '{module}' not found";
    }
}
