using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using EvoMerge.Demo;
using EvoMerge.Demo.Replicate;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EvoMerge.Cli.Demo;

/// <summary>
/// <c>evomerge demo replicate</c>: trains N worlds from N seeds (or reuses their models), runs the demo on each and
/// prints the table over the worlds and each world's paired bootstrap intervals (docs/demo.md, "Replicating").
/// </summary>
public sealed class DemoReplicateCommand : Command<DemoReplicateCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--worlds <N>")]
        [Description("Number of worlds; their seeds are 1..N unless --seeds names them (seed 0, the shipped world, chose the settings).")]
        public int? Worlds { get; init; }

        [CommandOption("--seeds <LIST>")]
        [Description("Comma-separated seeds of the worlds, e.g. 11,12,13.")]
        public string? Seeds { get; init; }

        [CommandOption("--out <DIR>")]
        [Description("Folder of the worlds: world-<seed>/models (reused when present; bench m2n2-vs-cma --out shares the LLM layout) and world-<seed>/demo.")]
        public string Out { get; init; } = Path.Combine("demo-runs", "replicate");

        [CommandOption("--quick")]
        [Description("Run the quick demo in each world (a smoke check; the evidence needs the full demo).")]
        public bool Quick { get; init; }

        [CommandOption("--json")]
        [Description("Print replicate.json on stdout (progress goes to stderr).")]
        public bool Json { get; init; }

        [CommandOption("--threads <N>")]
        [Description("Torch CPU threads for the demos (default 1); LLM training uses 2 and diffusion training 1, as their shipped models did.")]
        public int Threads { get; init; } = 1;

        public IReadOnlyList<int> SeedList()
        {
            if (Seeds is null)
                return Worlds is int n and > 0 ? Enumerable.Range(1, n).ToList()
                    : throw new EvoMergeException("demo replicate: --worlds must be a positive number of worlds (or give --seeds)");
            var seeds = Seeds.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(s =>
                int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= 0 ? v
                    : throw new EvoMergeException($"demo replicate --seeds: '{s}' is not a non-negative whole number (expected e.g. 11,12,13)")).ToList();
            if (Worlds is int w && w != seeds.Count)
                throw new EvoMergeException($"demo replicate: --worlds {w} but --seeds names {seeds.Count} worlds");
            return seeds;
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var seeds = settings.SeedList();
        var (console, progressConsole) = CliConsoles.ForResult(settings.Json);
        console.MarkupLineInterpolated($"[bold]EvoMerge demo replicate[/]: worlds {string.Join(", ", seeds)}{(settings.Quick ? " (quick)" : "")}, in {settings.Out}");
        var demoLines = new DemoProgressPrinter(progressConsole);
        var summary = DemoReplicate.Run(new ReplicateOptions(settings.Out, seeds, settings.Quick, settings.Threads), new SyncProgress<ReplicateProgress>(p =>
        {
            if (p.Demo is { } d) demoLines.Report(d);
            else if (p.Training is { } t)
            {
                // A line per tenth of a model's steps: enough to see it move, few enough for a log.
                if (t.Step.Step % Math.Max(1, t.Step.Steps / 10) == 0 || t.Step.Step == t.Step.Steps)
                    progressConsole.MarkupLineInterpolated($"  [grey]world {p.Seed}[/] training {t.Model}: step {t.Step.Step}/{t.Step.Steps}, loss {t.Step.Loss:F3}");
            }
            else progressConsole.MarkupLineInterpolated($"[bold]world {p.Seed}[/]: {p.Phase}");
        }), cancellationToken);
        if (settings.Json) Console.Out.WriteLine(JsonSerializer.Serialize(summary, DemoSummary.Json));
        else ReplicateTable.Write(console, summary);
        console.MarkupLineInterpolated($"Summary: {Path.Combine(Path.GetFullPath(settings.Out), DemoReplicate.FileName)}");
        return 0;
    }
}
