using System.ComponentModel;
using EvoMerge.Cli.Demo;
using EvoMerge.Demo;
using Spectre.Console;
using Spectre.Console.Cli;
using TorchSharp;

namespace EvoMerge.Cli.Commands;

/// <summary><c>evomerge demo</c>: the miniature EvoLLM-JP on the shipped models, ending in a Table-1-style comparison.</summary>
public sealed class DemoCommand : Command<DemoCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--quick")]
        [Description("A one-minute version: smaller grid and searches (used by the tests).")]
        public bool Quick { get; init; }

        [CommandOption("--json")]
        [Description("Print the summary as one JSON object on stdout (progress goes to stderr).")]
        public bool Json { get; init; }

        [CommandOption("--seed <N>")]
        [Description("Seed of the evolution (CMA-ES) and of DARE's drops.")]
        public int Seed { get; init; }

        [CommandOption("--out <DIR>")]
        [Description("Output folder (default: demo-runs/<time>-seed<N>): data, run folders, reports, summary.json.")]
        public string? Out { get; init; }

        [CommandOption("--models <DIR>")]
        [Description("Folder with base/, ja/ and math/ (default: the repository's demo/models).")]
        public string? Models { get; init; }

        [CommandOption("--threads <N>")]
        [Description("Torch CPU threads (default 1: the model is tiny, and on a busy machine more threads spin-wait; see bench demo-eval).")]
        public int Threads { get; init; } = 1;
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        torch.set_num_threads(settings.Threads);
        string output = settings.Out ?? Path.Combine("demo-runs", $"{DateTime.Now:yyyyMMdd-HHmmss}-seed{settings.Seed}");
        string models = settings.Models ?? ShippedModels.Find();
        var (console, progressConsole) = CliConsoles.ForResult(settings.Json);
        console.MarkupLineInterpolated($"[bold]EvoMerge demo[/]{(settings.Quick ? " (quick)" : "")}: models from {models}, output in {output}");

        // Progress lines go to stderr when stdout is a pipe (or with --json), the table to stdout.
        var summary = DemoRunner.Run(new DemoOptions(models, output, settings.Seed, settings.Quick, settings.Threads), new DemoProgressPrinter(progressConsole), cancellationToken);
        DemoReports.Render(summary, console);
        if (settings.Json) Console.Out.WriteLine(summary.ToJson());
        else DemoTable.Write(console, summary);
        console.MarkupLineInterpolated($"Summary: {Path.Combine(output, DemoSummary.FileName)}");
        return 0;
    }
}
