using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using EvoMerge.Cli.Merge;
using EvoMerge.IO;
using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Methods;
using EvoMerge.Merge.MultiStage;
using EvoMerge.Merge.Output;
using EvoMerge.Merge.Recipes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EvoMerge.Cli.Commands;

/// <summary><c>evomerge merge</c>: checks the recipe (as <c>check</c> does), then streams the merge into a model folder.</summary>
public sealed class MergeCommand : Command<MergeCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<recipe>")]
        [Description("A mergekit YAML recipe.")]
        public string Recipe { get; init; } = "";

        [CommandArgument(1, "<out-dir>")]
        [Description("Folder for the merged model (must not exist or be empty).")]
        public string OutDir { get; init; } = "";

        [CommandOption("--seed <N>")]
        [Description("Seed of DARE/DELLA random masks (default 0); the same seed gives bit-identical output.")]
        public ulong Seed { get; init; }

        [CommandOption("--compat <MODE>")]
        [Description("'mergekit' to follow mergekit's arithmetic where it deviates from the papers.")]
        public string? Compat { get; init; }

        [CommandOption("--strict")]
        [Description("Treat warnings (keys mergekit ignores, parameters without effect) as errors; as 'strict: true' in the recipe.")]
        public bool Strict { get; init; }

        [CommandOption("--threads <N>")]
        [Description("Worker threads (default: all cores).")]
        public int Threads { get; init; }

        [CommandOption("--intermediate-dir <DIR>")]
        [Description("Multi-stage recipes (required there): folder of the stages' models; current ones are reused.")]
        public string? IntermediateDir { get; init; }
    }

    public static MergeCompat? ParseCompat(string? value) => value is null ? null : UserChoices.Compat(value, "--compat");

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (MultiStageRecipe.IsMultiStage(settings.Recipe))
        {
            if (settings.IntermediateDir == null)
                throw new EvoMergeException($"{settings.Recipe} is a multi-stage recipe: give --intermediate-dir DIR, where the stages' models go (current ones are reused on the next run)");
            MultiStageView.Merge(settings.Recipe, settings.OutDir, settings.IntermediateDir, ParseCompat(settings.Compat), settings.Strict,
                new MergeOptions { Seed = settings.Seed, Threads = settings.Threads > 0 ? settings.Threads : Environment.ProcessorCount, Cancellation = cancellationToken });
            return 0;
        }
        using var planned = RecipePlanner.Plan(RecipeParser.Load(settings.Recipe), ParseCompat(settings.Compat), settings.Strict);
        int threads = settings.Threads > 0 ? settings.Threads : Environment.ProcessorCount;
        RecipeCheckView.Print(planned, threads);
        foreach (string stale in OutputFolder.StalePartials(settings.OutDir))
            AnsiConsole.MarkupLineInterpolated($"[yellow]note:[/] {stale} is left over from a run that was killed; remove it with rm -r");
        var clock = Stopwatch.StartNew();
        long bytesPerElement = planned.InputBytes / Math.Max(1, planned.Plan.TotalElements);
        CliConsoles.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("merging", maxValue: planned.Plan.TotalElements);
                var progress = new Progress<MergeProgress>(p =>
                {
                    double seconds = Math.Max(clock.Elapsed.TotalSeconds, 1e-3);
                    task.Value = p.ElementsDone;
                    task.Description = string.Create(CultureInfo.InvariantCulture,
                        $"{p.TensorsDone}/{p.TensorsTotal} tensors, {p.TensorsDone / seconds:0} tensors/s, {p.ElementsDone * bytesPerElement / seconds / 1e9:0.00} GB/s read");
                });
                MergedModelWriter.Write(planned, settings.OutDir,
                    new MergeOptions { Seed = settings.Seed, Compat = planned.Compat, Threads = threads, Progress = progress, Cancellation = cancellationToken });
                task.Value = task.MaxValue;
            });
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"wrote {settings.OutDir}: {RecipeCheckView.Gb(planned.OutputBytes)} in {clock.Elapsed.TotalSeconds:0.0} s")));
        return 0;
    }
}
