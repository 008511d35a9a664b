using System.Text.Json;
using EvoMerge.Demo.Vision;
using EvoMerge.TestSupport;
using EvoMerge.Torch.Tests.Cli;
using EvoMerge.Torch.Vision.Runtime;

namespace EvoMerge.Demo.Tests;

/// <summary>
/// <c>evomerge demo vlm --quick --json</c> once on the shipped models (a separate process, output in pipes), and
/// <c>demo train vlm</c> at a hundredth of its steps. Which merge wins is not asserted: that is the full demo's claim
/// over several trained worlds (docs/demo-vlm.md).
/// </summary>
public sealed class VlmDemoEndToEndTests : IDisposable
{
    readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("evomerge-vlm-demo");

    public void Dispose() => folder.Delete(recursive: true);

    [Fact]
    public void QuickVlmDemoWritesSummaryReportAndEveryRow()
    {
        string output = Path.Combine(folder.FullName, "run");
        var (code, stdout, stderr) = CliProcess.Run("demo", "vlm", "--quick", "--json",
            "--models", Path.Combine(SharedData.RepoRoot, "demo", "models"), "--out", output);
        Assert.True(code == 0, stderr);
        var summary = JsonSerializer.Deserialize<VlmDemoSummary>(stdout)!;
        Assert.Equal(summary.ToJson(), JsonSerializer.Deserialize<VlmDemoSummary>(File.ReadAllText(Path.Combine(output, VlmDemoSummary.FileName)))!.ToJson());
        Assert.Equal(["V", "A", "ties", "dare-ties", "evolved-ps", "evolved-ps-dfs", "evolved-dfs"], summary.Rows.Select(r => r.Name));
        // Quick searches are λ=4 × 2 generations (at least 8 evaluations each); the PS→DFS row counts its PS stage too.
        Assert.All(summary.Rows.Skip(4), r => Assert.True(r.Evaluations >= 8, $"{r.Name}: {r.Evaluations} evaluations"));
        Assert.True(summary["evolved-ps-dfs"].Evaluations >= summary["evolved-ps"].Evaluations + 8);
        // The paths are written as llava folders of at most 6 layers (MaxPathLength) with V's vision tower.
        foreach (var run in new[] { "evolved-ps-dfs", "evolved-dfs" })
        {
            var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(output, run, "best-model", "config.json")))!;
            Assert.Equal("llava", (string?)config["model_type"]);
            Assert.InRange((int)config["text_config"]!["num_hidden_layers"]!, 2, 6);
        }
        Assert.All(summary.Rows, r => Assert.InRange(r.RougeL, 0, 100));
        // V sees: on English questions about test pictures it never saw it is far above chance (1/6 colours, 1/3 counts).
        Assert.True(summary["V"].EnglishKeyMatch > 0.5, $"V's English key match {summary["V"].EnglishKeyMatch}");
        // A answers in Japanese but cannot see.
        Assert.True(summary["A"].InJapanese > 0.9, $"A in Japanese {summary["A"].InJapanese}");
        Assert.Equal(10, summary.Examples.Count);
        string html = File.ReadAllText(summary.Report);
        Assert.Equal(10, html.Split("<img ").Length - 1);
        Assert.All(summary.Comparisons, c => Assert.InRange(c.Difference, c.Lower, c.Upper));
    }

    [Fact]
    public void TrainVlmWritesALlavaFolderTheRuntimeLoads()
    {
        string output = Path.Combine(folder.FullName, "vlm");
        var (code, _, stderr) = CliProcess.Run("demo", "train", "vlm", "--models", Path.Combine(SharedData.RepoRoot, "demo", "models"),
            "--out", output, "--steps-scale", "0.01", "--threads", "1");
        Assert.True(code == 0, stderr);
        using var vlm = LoadedVlm.Load(Path.Combine(output, VlmShape.VFolder));
        var c = vlm.Model.Config;
        // The base's 202 characters plus <image>, as LLaVA adds rows its text model does not have.
        Assert.Equal((203, 202, 36), (c.Text.VocabSize, c.ImageTokenIndex, c.TokensPerImage));
        Assert.Equal(202, JsonDocument.Parse(File.ReadAllText(Path.Combine(output, VlmShape.VFolder, "tokenizer.json")))
            .RootElement.GetProperty("added_tokens").EnumerateArray().Single(t => t.GetProperty("content").GetString() == "<image>").GetProperty("id").GetInt32());
        var log = File.ReadAllLines(Path.Combine(output, "train-log.tsv"));
        Assert.Equal(["tower", "projector", "projector+LM"], log.Skip(1).Select(l => l.Split('\t')[0]).Distinct());
    }
}
