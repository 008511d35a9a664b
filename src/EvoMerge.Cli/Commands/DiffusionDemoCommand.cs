using System.ComponentModel;
using System.Globalization;
using EvoMerge.Cli.Demo;
using EvoMerge.Demo.Diffusion;
using Spectre.Console;
using Spectre.Console.Cli;
using TorchSharp;

namespace EvoMerge.Cli.Commands;

/// <summary><c>evomerge demo diffusion</c>: the miniature EvoSDXL-JP on the shipped diffusion models.</summary>
public sealed class DiffusionDemoCommand : Command<DiffusionDemoCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--quick")]
        [Description("A smoke-test version: fewer prompts, CMA-ES 4 × 2 (used by the tests).")]
        public bool Quick { get; init; }

        [CommandOption("--json")]
        [Description("Print the summary as one JSON object on stdout (progress goes to stderr).")]
        public bool Json { get; init; }

        [CommandOption("--seed <N>")]
        [Description("Seed of the evolution (CMA-ES).")]
        public int Seed { get; init; }

        [CommandOption("--out <DIR>")]
        [Description("Output folder (default: demo-runs/<time>-diffusion-seed<N>): summary.json and report/.")]
        public string? Out { get; init; }

        [CommandOption("--models <DIR>")]
        [Description("Folder with base/, ja/, lightning/ and judge/ (default: the repository's demo/models/diffusion).")]
        public string? Models { get; init; }

        [CommandOption("--threads <N>")]
        [Description("Torch CPU threads (default 1: the models are tiny and more threads spin-wait on a busy machine).")]
        public int Threads { get; init; } = 1;
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        torch.set_num_threads(settings.Threads);
        string output = settings.Out ?? Path.Combine("demo-runs", $"{DateTime.Now:yyyyMMdd-HHmmss}-diffusion-seed{settings.Seed}");
        string models = settings.Models ?? ShippedDiffusionModels.Find();
        var (console, progressConsole) = CliConsoles.ForResult(settings.Json);
        console.MarkupLineInterpolated($"[bold]EvoMerge demo diffusion[/]{(settings.Quick ? " (quick)" : "")}: models from {models}, output in {output}");
        var summary = DiffusionDemoRunner.Run(new DiffusionDemoOptions(models, output, settings.Seed, settings.Quick),
            new SyncProgress<string>(line => progressConsole.MarkupLineInterpolated($"[grey]{line}[/]")), cancellationToken);
        if (settings.Json) Console.Out.WriteLine(summary.ToJson());
        else Table(console, summary);
        console.MarkupLineInterpolated($"Summary: {Path.Combine(output, DiffusionSummary.FileName)}; report: {summary.Report}");
        return 0;
    }

    static void Table(IAnsiConsole console, DiffusionSummary s)
    {
        var table = new Table().AddColumns("model", "steps", "fidelity (JA test)", "realism FD", "dev fidelity", "evaluations", "seconds");
        string F(double v, string f) => v.ToString(f, CultureInfo.InvariantCulture);
        foreach (var r in s.Rows)
            table.AddRow(r.Name, r.Steps.ToString(CultureInfo.InvariantCulture), F(r.Fidelity, "F3"), F(r.RealismFd, "F2"),
                r.DevFidelity is double d ? F(d, "F3") : "", r.Evaluations.ToString(CultureInfo.InvariantCulture), F(r.Seconds, "F1"));
        console.Write(table);
        console.MarkupLineInterpolated($"The judge's fidelity on the real pictures of the test prompts (the ceiling): {F(s.RealFidelity, "F3")}");
        foreach (var d in s.Differences)
            console.MarkupLineInterpolated($"{d.Row} − {d.Minus}: {F(d.Mean, "+0.000;-0.000;0.000")} (95% bootstrap {F(d.Low, "+0.000;-0.000;0.000")} .. {F(d.High, "+0.000;-0.000;0.000")})");
    }
}
