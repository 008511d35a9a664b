using System.Text.Json;
using EvoMerge.Cli;
using EvoMerge.Cli.Demo;
using EvoMerge.Demo;
using EvoMerge.TestSupport;
using Spectre.Console;

namespace EvoMerge.Torch.Tests.Demo;

/// <summary><c>evomerge demo --quick</c> in-process on the shipped models: the acceptance test of issue 6.</summary>
public class DemoEndToEndTests
{
    [Fact]
    public void QuickDemoProducesTheTableAndEvolvedPsBeatsBothSources()
    {
        string models = Path.Combine(SharedData.RepoRoot, "demo", "models");
        var output = Directory.CreateTempSubdirectory("evomerge-demo-e2e");
        var stdout = new StringWriter();
        var saved = Console.Out;
        Console.SetOut(stdout);
        int exit;
        try
        {
            exit = CliApp.Run(["demo", "--quick", "--json", "--models", models, "--out", Path.Combine(output.FullName, "run")]);
        }
        finally { Console.SetOut(saved); }
        try
        {
            Assert.Equal(0, exit);
            var summary = JsonSerializer.Deserialize<DemoSummary>(stdout.ToString())!;
            Assert.Equal(["A", "B", "average", "task-arithmetic-best", "dare-ties-default", "evolved-ps", "evolved-dfs", "evolved-ps-dfs"],
                summary.Rows.Select(r => r.Name));
            Assert.All(summary.Rows, r => Assert.All([r.JaMathStrict, r.JaMathNumber, r.EnMath, r.JaQa], v => Assert.InRange(v, 0, 1)));
            // The headline: evolution finds a merge that does Japanese math better than either source.
            var ps = summary["evolved-ps"];
            Assert.True(ps.JaMathStrict > summary["A"].JaMathStrict, $"evolved PS {ps.JaMathStrict} vs A {summary["A"].JaMathStrict}");
            Assert.True(ps.JaMathStrict > summary["B"].JaMathStrict, $"evolved PS {ps.JaMathStrict} vs B {summary["B"].JaMathStrict}");
            Assert.True(ps.Evaluations > 0);

            Assert.True(File.Exists(Path.Combine(output.FullName, "run", DemoSummary.FileName)));
            Assert.All(summary.RunFolders, f => Assert.True(File.Exists(Path.Combine(f, "report", "index.html")), f));

            var table = new StringWriter();
            DemoTable.Write(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(table), ColorSystem = ColorSystemSupport.NoColors }), summary);
            Assert.Contains("JA math strict", table.ToString());
            Assert.All(summary.Rows, r => Assert.Contains(r.Name, table.ToString()));
        }
        finally { output.Delete(recursive: true); }
    }
}
