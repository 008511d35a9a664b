using System.Globalization;
using System.Text.Json;
using EvoMerge.Demo;
using EvoMerge.Demo.Diffusion;
using EvoMerge.Evaluation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EvoMerge.Cli.Demo;

/// <summary>
/// <c>evomerge demo replicate diffusion</c>: trains N diffusion worlds from N seeds (or reuses them), runs the diffusion
/// demo on each, and prints the rows over worlds and issue 18's claims per world and pooled (docs/demo-diffusion.md).
/// Its options are <c>demo replicate</c>'s.
/// </summary>
public sealed class DiffusionReplicateCommand : Command<DemoReplicateCommand.Settings>
{
    public override int Execute(CommandContext context, DemoReplicateCommand.Settings settings, CancellationToken cancellationToken)
    {
        var seeds = settings.SeedList();
        var (console, progressConsole) = CliConsoles.ForResult(settings.Json);
        console.MarkupLineInterpolated($"[bold]EvoMerge demo replicate diffusion[/]: worlds {string.Join(", ", seeds)}{(settings.Quick ? " (quick)" : "")}, in {settings.Out}");
        var summary = DiffusionReplicate.Run(new DiffusionReplicateOptions(settings.Out, seeds, settings.Quick, settings.Threads),
            new SyncProgress<string>(line => progressConsole.MarkupLineInterpolated($"[grey]{line}[/]")),
            new SyncProgress<DiffusionTrainingProgress>(t =>
            {
                // A line per tenth of a model's steps: enough to see it move, few enough for a log.
                if (t.Step.Step % Math.Max(1, t.Step.Steps / 10) == 0 || t.Step.Step == t.Step.Steps)
                    progressConsole.MarkupLineInterpolated($"  [grey]training {t.Model}: step {t.Step.Step}/{t.Step.Steps}, loss {t.Step.Loss:F4}[/]");
            }), cancellationToken);
        if (settings.Json) Console.Out.WriteLine(JsonSerializer.Serialize(summary, DemoSummary.Json));
        else Write(console, summary);
        console.MarkupLineInterpolated($"Summary: {Path.Combine(Path.GetFullPath(settings.Out), DiffusionReplicate.FileName)}");
        return 0;
    }

    static void Write(IAnsiConsole console, DiffusionReplicateSummary summary)
    {
        var rows = new Table().Border(TableBorder.Rounded)
            .Title($"Miniature EvoSDXL-JP over {summary.Seeds.Count} worlds (seeds {string.Join(", ", summary.Seeds)}{(summary.Quick ? ", quick" : "")}): mean [[95% t-interval over worlds]]")
            .AddColumn("model").AddColumn(new TableColumn("worlds").RightAligned());
        foreach (string c in new[] { "fidelity (JA test)", "realism FD", "dev fidelity" }) rows.AddColumn(new TableColumn(c).RightAligned());
        foreach (var r in summary.Rows)
            rows.AddRow(Markup.Escape(r.Name), r.Worlds.ToString(CultureInfo.InvariantCulture), M(r.Fidelity, "F3"), M(r.RealismFd, "F0"),
                r.DevFidelity is { } d ? M(d, "F3") : "");
        rows.AddRow("real pictures (the ceiling)", summary.Seeds.Count.ToString(CultureInfo.InvariantCulture), M(summary.RealFidelity, "F3"), "", "");
        console.Write(rows);

        ReplicateTable.WriteClaims(console, "Fidelity on the Japanese test prompts, left − right [95% paired bootstrap over test prompts]",
            summary.Comparisons, D);
    }

    static string M(MeanInterval m, string format) => m.Lower is double lo && m.Upper is double hi
        ? $"{m.Mean.ToString(format, CultureInfo.InvariantCulture)} [[{lo.ToString(format, CultureInfo.InvariantCulture)}, {hi.ToString(format, CultureInfo.InvariantCulture)}]]"
        : m.Mean.ToString(format, CultureInfo.InvariantCulture);

    static string D(ScoreDifference d) => string.Create(CultureInfo.InvariantCulture, $"{d.Difference:+0.000;-0.000;0.000} [{d.Lower:+0.000;-0.000;0.000}, {d.Upper:+0.000;-0.000;0.000}]");
}
