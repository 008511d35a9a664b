using System.Text.Json;
using EvoMerge.IO;
using EvoMerge.Torch.Runtime;
using EvoMerge.Torch.Tests.Runtime;
using static EvoMerge.Torch.Tests.Cli.CliRunner;

namespace EvoMerge.Torch.Tests.Cli;

/// <summary>
/// <c>evomerge inspect</c>, <c>check</c> and <c>merge</c> through the real entry point, on two models the runtime
/// saved: the merged values are compared with the sources' parameters combined here, the inspected counts with
/// the torch module's own parameter count.
/// </summary>
public sealed class MergeCliTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("evomerge-merge-cli-").FullName;
    readonly Dictionary<string, float[]> a, b;
    readonly long parameterCount;

    public MergeCliTests()
    {
        using var modelA = TinyModels.Random(TinyModels.Config(), seed: 3);
        using var modelB = TinyModels.Random(TinyModels.Config(), seed: 4);
        ModelWriter.Save(modelA, Path.Combine(dir, "a"));
        ModelWriter.Save(modelB, Path.Combine(dir, "b"));
        a = modelA.state_dict().ToDictionary(p => p.Key, p => p.Value.data<float>().ToArray());
        b = modelB.state_dict().ToDictionary(p => p.Key, p => p.Value.data<float>().ToArray());
        parameterCount = modelA.parameters().Sum(p => p.numel());
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);

    string Recipe(string name, string method) => WriteFile(name, $"""
        merge_method: {method}
        models:
          - model: {Path.Combine(dir, "a")}
            parameters: {"{"} weight: 0.3 {"}"}
          - model: {Path.Combine(dir, "b")}
            parameters: {"{"} weight: 0.7 {"}"}
        dtype: float32
        """);

    string WriteFile(string name, string text)
    {
        string path = Path.Combine(dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void CheckThenMergeWritesTheWeightedSumAndInspectCountsIt()
    {
        string recipe = Recipe("linear.yml", "linear");
        var (code, _, err) = Run("check", recipe);
        Assert.True(code == 0, err);

        string output = Path.Combine(dir, "merged");
        (code, _, err) = Run("merge", recipe, output, "--threads", "2");
        Assert.True(code == 0, err);
        using (var merged = SafetensorsModel.Open(output))
            foreach (var (name, values) in a)
            {
                var actual = new float[values.Length];
                merged.ReadFloat32(name, actual);
                for (int i = 0; i < values.Length; i++)
                    Assert.Equal(0.3f * values[i] + 0.7f * b[name][i], actual[i], 1e-6f);
            }
        Assert.True(File.Exists(Path.Combine(output, "mergekit_config.yml")));

        (code, string json, err) = Run("inspect", output, "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(parameterCount, doc.RootElement.GetProperty("parameters").GetInt64());
        Assert.Equal(TinyModels.Config().NumLayers, doc.RootElement.GetProperty("layers").GetInt32());
        Assert.Equal(a.Count, doc.RootElement.GetProperty("tensors").GetArrayLength());
    }

    [Fact]
    public void ATypoInTheMethodFailsInCheckWithOneLineNamingLineFieldAndSuggestion()
    {
        var (code, _, err) = Run("check", Recipe("typo.yml", "lienar"));
        Assert.Equal(1, code);
        string line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("typo.yml:1:", line);
        Assert.Contains("merge_method", line);
        Assert.Contains("did you mean 'linear'", line);
    }

    /// <summary>Issue 10 items 2 and 8 through the CLI: a bad out-dir is one clean line (exit 1) before any merge work.</summary>
    [Theory]
    [InlineData("a/merged", "is inside the input")]
    [InlineData("a", "is the input")]
    [InlineData("linear.yml", "is the input")]
    [InlineData("file.txt", "file.txt: is a file")]
    public void ABadOutDirFailsCleanlyBeforeMerging(string outDir, string expected)
    {
        string recipe = Recipe("linear.yml", "linear");
        WriteFile("file.txt", "keep");
        var before = Directory.GetFileSystemEntries(Path.Combine(dir, "a")).Order().ToArray();
        var (code, stdout, err) = Run("merge", recipe, Path.Combine(dir, outDir));
        Assert.Equal(1, code);
        var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(expected, line);
        Assert.DoesNotContain("wrote", stdout);
        Assert.Equal(before, Directory.GetFileSystemEntries(Path.Combine(dir, "a")).Order().ToArray());
        Assert.Equal("keep", File.ReadAllText(Path.Combine(dir, "file.txt")));
    }

    /// <summary>Issue 10 item 10: a garbage chat_template fails <c>check</c> with its line.</summary>
    [Fact]
    public void AGarbageChatTemplateFailsCheck()
    {
        string recipe = WriteFile("chat.yml", File.ReadAllText(Recipe("linear.yml", "linear")) + "\nchat_template: garbage\n");
        var (code, _, err) = Run("check", recipe);
        Assert.Equal(1, code);
        Assert.Contains("chat.yml:8:16: chat_template: 'garbage' is neither", err);
    }
}
