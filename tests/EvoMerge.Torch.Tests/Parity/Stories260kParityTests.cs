using EvoMerge.IO.Gguf;
using EvoMerge.TestSupport;
using EvoMerge.Tokenization;
using EvoMerge.Torch.Import;
using Xunit.Abstractions;

namespace EvoMerge.Torch.Tests.Parity;

/// <summary>
/// The real pretrained stories260K, imported by <c>Llama2cImporter</c> (what <c>evomerge import llama2c</c> runs)
/// into a Hugging Face folder and exported to GGUF:
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

    const int Vocab = 512;

    (string HfFolder, Llama2cTokenizer Tokenizer) Import()
    {
        string hf = Path.Combine(dir, "stories260k");
        Llama2cImporter.Import(SharedData.PathOf(Checkpoint), SharedData.PathOf(Tokenizer), hf);
        return (hf, Llama2cTokenizer.Load(Path.Combine(hf, TokenizerFactory.Llama2cFileName), Vocab));
    }

    [SharedDataAndPythonFact(Checkpoint, "torch")]
    public void LlamaCppRuntimeAndPyTorchAgreeOnLogits()
    {
        var (hf, tokenizer) = Import();
        var prompts = Texts.Select(t => tokenizer.Encode(t, addBos: true).ToArray()).ToList();
        string gguf = GgufLlamaCppParityTests.Export(hf, Path.Combine(dir, "stories.gguf"), GgufOutputType.F32);
        ThreeWayParity.AssertAgree("stories260K f32", hf, gguf, prompts, Vocab, output);
    }

    [SharedDataFact(Checkpoint)]
    public void LlamaCppTokenizesLikeEvoMergeAndDecodesThePublishedSample()
    {
        var (hf, tokenizer) = Import();
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
