using System.ComponentModel;
using EvoMerge.Cli.Report;
using EvoMerge.Reporting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EvoMerge.Cli.Commands;

/// <summary><c>evomerge report &lt;run-dir&gt;</c>: the HTML page and PNGs of an evolution run.</summary>
public sealed class ReportCommand : Command<ReportCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<run-dir>")]
        [Description("The run folder written by evomerge evolve.")]
        public string RunDirectory { get; init; } = "";

        [CommandOption("-o|--out <DIR>")]
        [Description("Where to write index.html and the PNGs (default: <run-dir>/report).")]
        public string? Output { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var run = RunData.Load(settings.RunDirectory);
        string page = HtmlReport.Write(run, settings.Output ?? Path.Combine(run.Root, "report"));
        AnsiConsole.MarkupLineInterpolated($"report written: [link]{page}[/]");
        return 0;
    }
}
