using EvoMerge.Demo;
using Spectre.Console;

namespace EvoMerge.Cli.Demo;

/// <summary>Renders the evolution engine's HTML/PNG report for each run folder of the demo.</summary>
static class DemoReports
{
    public static void Render(DemoSummary summary, string output, IAnsiConsole console)
    {
        // Filled in once the evolution engine's report renderer is available (evomerge report <run-dir>).
    }
}
