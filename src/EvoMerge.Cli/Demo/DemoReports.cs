using EvoMerge.Cli.Report;
using EvoMerge.Demo;
using EvoMerge.Reporting;
using Spectre.Console;

namespace EvoMerge.Cli.Demo;

/// <summary>Renders the evolution engine's HTML/PNG report (as <c>evomerge report</c> does) for each run folder of the demo.</summary>
static class DemoReports
{
    public static void Render(DemoSummary summary, IAnsiConsole console)
    {
        foreach (string folder in summary.RunFolders)
        {
            string page = HtmlReport.Write(RunData.Load(folder), Path.Combine(folder, "report"));
            console.MarkupLineInterpolated($"report: [link]{page}[/]");
        }
    }
}
