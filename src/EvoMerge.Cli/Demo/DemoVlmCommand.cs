using System.ComponentModel;
using System.Globalization;
using EvoMerge.Demo;
using EvoMerge.Demo.Vision;
using Spectre.Console;
using Spectre.Console.Cli;
using TorchSharp;

namespace EvoMerge.Cli.Demo;

/// <summary><c>evomerge demo vlm</c>: the miniature EvoVLM-JP on the shipped models, ending in a VLM-table-style comparison.</summary>
public sealed class DemoVlmCommand : Command<DemoVlmCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--quick")]
        [Description("A smoke-test version: smaller searches, the first 60 test questions (used by the tests).")]
        public bool Quick { get; init; }

        [CommandOption("--json")]
        [Description("Print the summary as one JSON object on stdout (progress goes to stderr).")]
        public bool Json { get; init; }

        [CommandOption("--seed <N>")]
        [Description("Seed of the evolution (CMA-ES), DARE's drops and the bootstrap.")]
        public int Seed { get; init; }

        [CommandOption("--out <DIR>")]
        [Description("Output folder (default: demo-runs/vlm-<time>-seed<N>): data, run folders, report.html, summary.json.")]
        public string? Out { get; init; }

        [CommandOption("--models <DIR>")]
        [Description("Folder with base/, ja/ and vlm/v/ (default: the repository's demo/models).")]
        public string? Models { get; init; }

        [CommandOption("--threads <N>")]
        [Description("Torch CPU threads (default 1: the models are tiny, and on a busy machine more threads spin-wait).")]
        public int Threads { get; init; } = 1;
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        torch.set_num_threads(settings.Threads);
        string output = settings.Out ?? Path.Combine("demo-runs", $"vlm-{DateTime.Now:yyyyMMdd-HHmmss}-seed{settings.Seed}");
        string models = settings.Models ?? ShippedModels.Find();
        var (console, progressConsole) = CliConsoles.ForResult(settings.Json);
        console.MarkupLineInterpolated($"[bold]EvoMerge VLM demo[/]{(settings.Quick ? " (quick)" : "")}: models from {models}, output in {output}");
        var summary = VlmDemoRunner.Run(new VlmDemoOptions(models, output, settings.Seed, settings.Quick, settings.Threads),
            new DemoProgressPrinter(progressConsole), cancellationToken);
        if (settings.Json) Console.Out.WriteLine(summary.ToJson());
        else Write(console, summary);
        console.MarkupLineInterpolated($"Report: [link]{summary.Report}[/]");
        console.MarkupLineInterpolated($"Summary: {Path.Combine(output, VlmDemoSummary.FileName)}");
        return 0;
    }

    static void Write(IAnsiConsole console, VlmDemoSummary summary)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"Miniature EvoVLM-JP (seed {summary.Seed}{(summary.Quick ? ", quick" : "")}): Japanese VQA test, {summary.TestItems} questions")
            .AddColumn("model")
            .AddColumn(new TableColumn("ROUGE-L").RightAligned())
            .AddColumn(new TableColumn("key %").RightAligned())
            .AddColumn(new TableColumn("in JA %").RightAligned())
            .AddColumn(new TableColumn("EN key %").RightAligned())
            .AddColumn(new TableColumn("dev ROUGE-L").RightAligned())
            .AddColumn(new TableColumn("evaluations").RightAligned())
            .AddColumn(new TableColumn("seconds").RightAligned());
        foreach (var r in summary.Rows)
            table.AddRow(Markup.Escape(r.Name), F(r.RougeL), F(100 * r.KeyMatch), F(100 * r.InJapanese),
                r.EnglishKeyMatch is double en ? F(100 * en) : "", r.DevRougeL is double d ? F(d) : "",
                r.Evaluations.ToString(CultureInfo.InvariantCulture), F(r.Seconds));
        console.Write(table);
        foreach (var c in summary.Comparisons)
            console.MarkupLineInterpolated($"{c.Model} − {c.Against}: ROUGE-L {c.Difference:+0.0;-0.0} (95% paired bootstrap [[{c.Lower:0.0}, {c.Upper:0.0}]]), key {100 * c.KeyMatchDifference:+0.0;-0.0} points");
        foreach (var r in summary.Rows.Where(r => r.Recipe != null))
            console.MarkupLineInterpolated($"[bold]{r.Name}[/]: {r.Recipe}");
        console.MarkupLineInterpolated($"Total {summary.Seconds:0} s.");
    }

    static string F(double v) => v.ToString("0.0", CultureInfo.InvariantCulture);
}
