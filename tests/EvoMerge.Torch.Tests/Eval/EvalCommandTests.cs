using System.Text.Json;
using EvoMerge.Cli.Commands;
using EvoMerge.Cli.Eval;
using EvoMerge.Evaluation;
using Spectre.Console;

namespace EvoMerge.Torch.Tests.Eval;

/// <summary>
/// The eval command's flow (flags → task → progress → JSONL → report) with a stand-in model that answers from a
/// script, so these tests check the command, not a model. The real-model end-to-end test is in EvalEndToEndTests.
/// </summary>
public sealed class EvalCommandTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("evomerge-evalcli-").FullName;

    public void Dispose() => Directory.Delete(_folder, true);

    sealed class AnswersTwo : ILanguageModel, IDisposable
    {
        public bool Disposed { get; private set; }
        public IReadOnlyList<string> Generate(IReadOnlyList<string> prompts, GenerationOptions options) =>
            prompts.Select(p => p.Contains("1+1") ? "答えは2です。" : "The answer is 2.").ToArray();
        public IReadOnlyList<ContinuationScore> ScoreContinuations(IReadOnlyList<ContinuationRequest> requests) => throw new NotSupportedException();
        public void Dispose() => Disposed = true;
    }

    (int Code, string Stdout, AnswersTwo Model) Run(EvalCommand.Settings settings)
    {
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Interactive = InteractionSupport.No });
        var model = new AnswersTwo();
        int code = EvalRun.Execute(settings, (request, _) => { Assert.Equal("my-model", request.Model); return model; }, console, default);
        return (code, output.ToString(), model);
    }

    string Data()
    {
        string path = Path.Combine(_folder, "mgsm_ja.tsv");
        File.WriteAllLines(path, ["1+1は?\t2", "2+2は?\t4", "1+1+0は?\t2"]);
        return path;
    }

    [Fact]
    public void PrintsOneJsonObjectAndWritesEveryItem()
    {
        string items = Path.Combine(_folder, "items.jsonl");
        var (code, stdout, model) = Run(new EvalCommand.Settings
        {
            Model = "my-model", Task = "mgsm", Data = Data(), Out = items, Json = true, Language = "ja",
        });
        Assert.Equal(0, code);
        Assert.True(model.Disposed);
        var json = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal("mgsm", json.GetProperty("task").GetString());
        Assert.Equal(3, json.GetProperty("items").GetInt32());
        // Items 0 and 2 answer 2 in Japanese (right); item 1 answers 2 in English (wrong, and not Japanese).
        var acc = json.GetProperty("metrics").GetProperty("acc");
        Assert.Equal(2.0 / 3, acc.GetProperty("value").GetDouble(), 12);
        Assert.True(acc.GetProperty("ci95_lower").GetDouble() < 2.0 / 3);
        var lines = File.ReadAllLines(items).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal([true, false, true], lines.Select(l => l.GetProperty("correct").GetBoolean()));
        Assert.Equal("答えは2です。", lines[0].GetProperty("output").GetString());
        Assert.EndsWith("### 指示:\n1+1は?\n\n### 応答:", lines[0].GetProperty("prompt").GetString());
        Assert.Equal("2", lines[1].GetProperty("extracted").GetString());
    }

    [Fact]
    public void PrintsATableForASubset()
    {
        var (code, stdout, _) = Run(new EvalCommand.Settings { Model = "my-model", Task = "mgsm", Data = Data(), Indices = "2,0" });
        Assert.Equal(0, code);
        Assert.Contains("mgsm — 2 items", stdout);
        Assert.Contains("acc", stdout);
        Assert.Contains("100.0%", stdout);
    }

    [Fact]
    public void CancellingLeavesNoItemsFile()
    {
        string items = Path.Combine(_folder, "items.jsonl");
        var settings = new EvalCommand.Settings { Model = "my-model", Task = "mgsm", Data = Data(), Out = items, Json = true };
        var e = Assert.Throws<EvoMergeException>(() =>
            EvalRun.Execute(settings, (_, _) => new AnswersTwo(), AnsiConsole.Console, new CancellationToken(canceled: true)));
        Assert.Contains("cancelled", e.Message);
        Assert.Empty(Directory.GetFiles(_folder, "items.jsonl*"));
    }

    [Theory]
    [InlineData("--task", "maths", "--task 'maths' is not known")]
    [InlineData("--limit", "2", "give one")]
    public void FlagMistakesFailBeforeTheModelLoads(string flag, string value, string expected)
    {
        var settings = flag == "--task"
            ? new EvalCommand.Settings { Model = "my-model", Task = value, Data = Data() }
            : new EvalCommand.Settings { Model = "my-model", Task = "mgsm", Data = Data(), Limit = 2, Sample = 2 };
        var e = Assert.Throws<EvoMergeException>(() =>
            EvalRun.Execute(settings, (_, _) => throw new InvalidOperationException("model must not load"), AnsiConsole.Console, default));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void TheVerbParsesItsFlags()
    {
        var (code, _, err) = EvoMerge.Torch.Tests.Cli.CliRunner.Run("eval", "my-model", "--task", "mgsm", "--data", Data(), "--sample", "2",
            "--seed", "3", "--shots", "1", "--max-new-tokens", "8", "--batch-size", "2", "--json");
        Assert.Equal(1, code);
        // Everything parsed; the task then looks for its exemplar file beside the data.
        Assert.Contains("mgsm_exemplars_ja.jsonl' not found", err);
    }
}
