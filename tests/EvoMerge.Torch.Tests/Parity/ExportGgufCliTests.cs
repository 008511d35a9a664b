using EvoMerge.Torch.Tests.Cli;

namespace EvoMerge.Torch.Tests.Parity;

/// <summary>Bad input to <c>evomerge export gguf</c> is one clear line naming the file or field, and writes nothing.</summary>
public sealed class ExportGgufCliTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("export-cli-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    static (int Code, string Error) Run(params string[] args)
    {
        var (code, _, error) = CliRunner.Run(args);
        return (code, error);
    }

    string Model()
    {
        string hf = Path.Combine(dir, "hf");
        RandomLlamaModel.WriteFolder(hf, RandomLlamaModel.Create(seed: 9));
        return hf;
    }

    [Fact]
    public void AnUnknownTypeIsRefusedBeforeAnythingIsRead()
    {
        var (code, error) = Run("export", "gguf", Model(), Path.Combine(dir, "x.gguf"), "--type", "q4_k");
        Assert.Equal(1, code);
        Assert.Contains("'q4_k'", error);
        Assert.Contains("q8_0", error);
        Assert.False(File.Exists(Path.Combine(dir, "x.gguf")));
    }

    [Fact]
    public void AFolderWithoutATokenizerNamesTheFolderAndLeavesNoFile()
    {
        string hf = Model();
        File.Delete(Path.Combine(hf, "tokenizer.bin"));
        var (code, error) = Run("export", "gguf", hf, Path.Combine(dir, "x.gguf"));
        Assert.Equal(1, code);
        Assert.Contains(hf, error);
        Assert.Contains("tokenizer", error);
        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public void AnUnsupportedModelTypeNamesTheConfigField()
    {
        string hf = Model();
        string config = Path.Combine(hf, "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"model_type\": \"llama\"", "\"model_type\": \"gpt2\""));
        var (code, error) = Run("export", "gguf", hf, Path.Combine(dir, "x.gguf"));
        Assert.Equal(1, code);
        Assert.Contains("model_type", error);
        Assert.Contains(config, error);
    }

    [Fact]
    public void ExportLeavesTheInputModelUntouched()
    {
        string hf = Model();
        var before = Directory.GetFiles(hf).ToDictionary(f => f, File.ReadAllBytes);
        Assert.Equal(0, Run("export", "gguf", hf, Path.Combine(dir, "m.gguf"), "--type", "q8_0").Code);
        Assert.Equal(before.Keys.Order(), Directory.GetFiles(hf).Order());
        foreach (var (file, bytes) in before) Assert.Equal(bytes, File.ReadAllBytes(file));
    }
}
