using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Methods;
using EvoMerge.Merge.MultiStage;
using Spectre.Console;

namespace EvoMerge.Cli.Merge;

/// <summary><c>check</c> and <c>merge</c> of a multi-stage recipe: one table row per stage, each stage's own check, one progress bar per stage written.</summary>
static class MultiStageView
{
    public static void Check(string recipePath, string? intermediates, MergeCompat? compat, bool strict, ulong seed, int threads, bool asJson)
    {
        var recipe = MultiStageRecipe.Load(recipePath);
        var stages = MultiStageRunner.Check(recipe, intermediates, compat, strict, seed);
        try
        {
            if (asJson)
            {
                PrintJson(recipe, stages, threads);
                return;
            }
            PrintStages(recipe, stages.Select(s => s.Outcome), intermediates);
            foreach (var (outcome, planned) in stages.Where(s => s.Planned != null))
            {
                AnsiConsole.MarkupLine($"[bold]stage {Markup.Escape(outcome.Stage.Name)}[/]");
                RecipeCheckView.Print(planned!, threads);
            }
        }
        finally
        {
            foreach (var (_, p) in stages) p?.Dispose();
        }
    }

    public static void Merge(string recipePath, string outDir, string intermediates, MergeCompat? compat, bool strict, MergeOptions options)
    {
        var recipe = MultiStageRecipe.Load(recipePath);
        var clock = Stopwatch.StartNew();
        IReadOnlyList<StageOutcome> outcomes = [];
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                outcomes = MultiStageRunner.Run(recipe, outDir, intermediates, compat, strict, options, (stage, planned) =>
                {
                    var task = ctx.AddTask($"stage {stage.Name}", maxValue: Math.Max(1, planned.Plan.TotalElements));
                    return new Progress<MergeProgress>(p =>
                    {
                        task.Value = p.ElementsDone;
                        task.Description = $"stage {stage.Name}: {p.TensorsDone}/{p.TensorsTotal} tensors";
                    });
                }, outcome => ctx.AddTask($"stage {outcome.Stage.Name}: {(outcome.Status == StageStatus.Reused ? "reused" : "written")}", maxValue: 1).Value = 1);
            });
        PrintStages(recipe, outcomes, intermediates);
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"wrote {outDir} in {clock.Elapsed.TotalSeconds:0.0} s")));
    }

    /// <summary>{ok, recipe, output, stages: [{name, line, uses, status, folder, detail?, plan?}]}; plan holds the single-recipe check fields.</summary>
    static void PrintJson(MultiStageRecipe recipe, IReadOnlyList<(StageOutcome Outcome, EvoMerge.Merge.Recipes.PlannedRecipe? Planned)> stages, int threads)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var json = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteBoolean("ok", true);
            json.WriteString("recipe", recipe.File);
            json.WriteString("output", recipe.Output.Name);
            json.WriteStartArray("stages");
            foreach (var (o, planned) in stages)
            {
                json.WriteStartObject();
                json.WriteString("name", o.Stage.Name);
                json.WriteNumber("line", o.Stage.NameMark.Line);
                json.WriteStartArray("uses");
                foreach (var u in o.Stage.Uses) json.WriteStringValue(u.Stage);
                json.WriteEndArray();
                json.WriteString("status", o.Status switch
                {
                    StageStatus.Current => "current",
                    StageStatus.Checked => "checked",
                    StageStatus.WaitsForInputs => "waits_for_inputs",
                    var other => other.ToString().ToLowerInvariant(),
                });
                if (o.Folder.Length > 0) json.WriteString("folder", o.Folder);
                if (o.Detail != null) json.WriteString("detail", o.Detail);
                if (planned != null)
                {
                    json.WriteStartObject("plan");
                    RecipeCheckView.WriteJsonFields(json, planned, threads);
                    json.WriteEndObject();
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        stdout.WriteByte((byte)'\n');
    }

    static void PrintStages(MultiStageRecipe recipe, IEnumerable<StageOutcome> outcomes, string? intermediates)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumns("stage", "line", "uses", "status");
        foreach (var o in outcomes)
            table.AddRow(Markup.Escape(o.Stage.Name), o.Stage.NameMark.Line.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(string.Join(", ", o.Stage.Uses.Select(u => u.Stage))),
                Markup.Escape(o.Status switch
                {
                    StageStatus.Reused => $"reused ({o.Folder})",
                    StageStatus.Current => $"built and current: merge will reuse {o.Folder}",
                    StageStatus.Written => $"written ({o.Folder})",
                    StageStatus.Checked => o.Stage == recipe.Output ? "checked (output)" : o.Folder.Length == 0 ? "checked" : $"checked (would be written to {o.Folder})",
                    _ => o.Detail ?? "",
                }));
        table.Caption(Markup.Escape($"{recipe.File}: {recipe.Stages.Count} stages, {(intermediates == null ? "no --intermediate-dir given" : $"intermediates in {intermediates}")}"));
        AnsiConsole.Write(table);
    }
}
