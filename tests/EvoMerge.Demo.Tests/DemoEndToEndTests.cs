using EvoMerge.Torch.Tests.Cli;
using System.Text.Json;
using EvoMerge.Cli;
using EvoMerge.Cli.Demo;
using EvoMerge.Demo;
using EvoMerge.TestSupport;
using Spectre.Console;

namespace EvoMerge.Demo.Tests;

/// <summary>Runs <c>evomerge demo --quick</c> once on the shipped models, as a user would with its output in a
/// pipe: a separate process with stdout and stderr redirected.</summary>
public sealed class QuickDemoRun : IDisposable
{
    readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("evomerge-demo-e2e");

    public QuickDemoRun()
    {
        Output = Path.Combine(folder.FullName, "run");
        (ExitCode, Stdout, Stderr) = CliProcess.Run(
            "demo", "--quick", "--models", Path.Combine(SharedData.RepoRoot, "demo", "models"), "--out", Output);
    }

    public string Output { get; }
    public int ExitCode { get; }
    public string Stdout { get; }
    public string Stderr { get; }
    public DemoSummary Summary => JsonSerializer.Deserialize<DemoSummary>(File.ReadAllText(Path.Combine(Output, DemoSummary.FileName)))!;

    public void Dispose() => folder.Delete(recursive: true);
}

/// <summary>
/// A smoke test of the quick demo end to end: it runs, writes its summary, run folders, reports and a table with
/// every row. Which merge wins is not asserted here: one seed of the quick demo must not decide kernel design; the
/// comparison belongs to the full demo over several trained worlds (docs/demo.md).
/// </summary>
public class DemoEndToEndTests(QuickDemoRun run) : IClassFixture<QuickDemoRun>
{
    [Fact]
    public void QuickDemoPrintsTheSummaryWritesRunFoldersReportsAndTheTable()
    {
        Assert.True(run.ExitCode == 0, run.Stderr);
        var summary = run.Summary;
        // The shipped models predate joint/, so the joint fine-tune row is absent here.
        Assert.Equal(["A", "B", "average", "task-arithmetic-best", "dare-ties-default", "evolved-ps", "evolved-dfs", "evolved-dfs-scales-1", "evolved-ps-dfs"],
            summary.Rows.Select(r => r.Name));
        // Every row keeps its per-item test scores for the replicate's paired bootstraps.
        Assert.All(summary.Rows, r => Assert.Equal(DemoPlan.Quick.TestLimit, r.JaMathStrictItems?.Count));
        Assert.All(summary.Rows, r => Assert.Equal(r.JaMathStrict, r.JaMathStrictItems!.Average(), 9));
        Assert.All(summary.Rows, r => Assert.All([r.JaMathStrict, r.JaMathNumber, r.EnMath, r.JaQa], v => Assert.InRange(v, 0, 1)));
        // Searched rows count their evaluations; the scales-1 row is derived from evolved-dfs, not searched.
        Assert.All(summary.Rows.Where(r => r.Name.StartsWith("evolved", StringComparison.Ordinal) && r.Name != "evolved-dfs-scales-1"),
            r => Assert.True(r.Evaluations > 0, r.Name));
        // The sources keep their specialities (what the merge has to combine).
        Assert.True(summary["A"].JaQa > 0.5, $"A's JA QA {summary["A"].JaQa}");
        Assert.True(summary["B"].EnMath > 0.5, $"B's EN math {summary["B"].EnMath}");

        Assert.All(summary.Rows, r => Assert.Contains($"│ {r.Name} ", run.Stdout));
        Assert.All(summary.RunFolders, f => Assert.True(File.Exists(Path.Combine(f, "report", "index.html")), f));

        var table = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(table), ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = 200;   // wide enough that no cell wraps
        DemoTable.Write(console, summary);
        Assert.Contains("JA math strict", table.ToString());
        Assert.All(summary.Rows, r => Assert.Contains($" {r.Name} ", table.ToString()));
    }

    [Fact]
    public void No_reported_path_is_worse_on_dev_than_the_sources_own_paths()
    {
        // DFS scores each source's own path before searching and runs on the better source's embeddings and head,
        // so its winner is at least that source on dev; PS→DFS likewise keeps the PS model's own path.
        Assert.True(run.ExitCode == 0, run.Stderr);
        var s = run.Summary;
        double bestSource = Math.Max(s["A"].DevJaMathStrict!.Value, s["B"].DevJaMathStrict!.Value);
        Assert.True(s["evolved-dfs"].DevJaMathStrict >= bestSource, $"DFS dev {s["evolved-dfs"].DevJaMathStrict} < best source {bestSource}");
        Assert.True(s["evolved-ps-dfs"].DevJaMathStrict >= s["evolved-ps"].DevJaMathStrict,
            $"PS→DFS dev {s["evolved-ps-dfs"].DevJaMathStrict} < PS {s["evolved-ps"].DevJaMathStrict}");
        var anchors = EvoMerge.Evolution.Run.Journal.Read(Path.Combine(run.Output, "evolved-dfs", "journal.jsonl"))
            .Where(e => e.Kind == EvoMerge.Evolution.Run.EntryKinds.Anchor).ToList();
        Assert.Equal(2, anchors.Count);
        Assert.Contains(anchors, e => Math.Abs(e.Fitness - bestSource) < 1e-9);   // the better source's own path is that source
    }

    [Fact]
    public void QuickDemoPrintsTheTableToStdoutAndWholeProgressLinesToStderr()
    {
        Assert.True(run.ExitCode == 0, run.Stderr);
        PipeText.AssertTablesWhole(run.Stdout, minTables: 1);
        Assert.Contains(run.Stdout.Split('\n'), l => l.Length > 80 && l.StartsWith('│'));
        Assert.DoesNotContain("generation", run.Stdout);

        Assert.DoesNotContain('\u001b', run.Stderr);
        Assert.DoesNotContain('\r', run.Stderr);
        Assert.EndsWith("\n", run.Stderr);
        var generations = run.Stderr.Split('\n').Where(l => l.Contains(" generation ")).ToList();
        Assert.True(generations.Count >= 4, run.Stderr);
        Assert.All(generations, l => Assert.Matches(PipeText.GenerationLine(), l));
    }
}
