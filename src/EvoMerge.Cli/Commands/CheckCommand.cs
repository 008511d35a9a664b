using System.ComponentModel;
using EvoMerge.Cli.Merge;
using EvoMerge.Merge.MultiStage;
using EvoMerge.Merge.Recipes;
using Spectre.Console.Cli;

namespace EvoMerge.Cli.Commands;

/// <summary><c>evomerge check</c>: validates a recipe against the models' headers only (no tensor data is read).</summary>
public sealed class CheckCommand : Command<CheckCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<recipe>")]
        [Description("A mergekit YAML recipe.")]
        public string Recipe { get; init; } = "";

        [CommandOption("--json")]
        [Description("Print one JSON object instead of a table.")]
        public bool Json { get; init; }

        [CommandOption("--compat <MODE>")]
        [Description("'mergekit' to follow mergekit's arithmetic where it deviates from the papers.")]
        public string? Compat { get; init; }

        [CommandOption("--strict")]
        [Description("Treat warnings (keys mergekit ignores, parameters without effect) as errors; as 'strict: true' in the recipe.")]
        public bool Strict { get; init; }

        [CommandOption("--threads <N>")]
        [Description("Threads the merge would use (for the memory estimate); default: all cores.")]
        public int Threads { get; init; }

        [CommandOption("--intermediate-dir <DIR>")]
        [Description("Multi-stage recipes: where the stages' models are (or will be); stages whose inputs exist are checked.")]
        public string? IntermediateDir { get; init; }

        [CommandOption("--seed <N>")]
        [Description("Multi-stage recipes: the seed the merge will use (intermediates made with another are not current).")]
        public ulong Seed { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        int threads = settings.Threads > 0 ? settings.Threads : Environment.ProcessorCount;
        if (MultiStageRecipe.IsMultiStage(settings.Recipe))
        {
            MultiStageView.Check(settings.Recipe, settings.IntermediateDir,
                MergeCommand.ParseCompat(settings.Compat), settings.Strict, settings.Seed, threads, settings.Json);
            return 0;
        }
        using var planned = RecipePlanner.Plan(RecipeParser.Load(settings.Recipe), MergeCommand.ParseCompat(settings.Compat), settings.Strict);
        if (settings.Json) RecipeCheckView.PrintJson(planned, threads);
        else RecipeCheckView.Print(planned, threads);
        return 0;
    }
}
