using System.Globalization;
using System.Text.Json;
using EvoMerge.Merge.Recipes;
using Spectre.Console;

namespace EvoMerge.Cli.Merge;

/// <summary>What <c>check</c> (and the start of <c>merge</c>) prints about a planned recipe: as a table or as JSON.</summary>
static class RecipeCheckView
{
    public static void Print(PlannedRecipe planned, int threads)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("recipe").AddColumn(Markup.Escape(planned.Recipe.File));
        table.AddRow("method", Markup.Escape($"{planned.Plan.Method.Name} (compat: {planned.Compat.ToString().ToLowerInvariant()})"));
        foreach (var (name, model) in planned.Models)
            table.AddRow(name == planned.Recipe.BaseModel ? "base model" : "model",
                Markup.Escape($"{name}: {model.LayerCount} layers, {Gb(model.Weights.TotalBytes)}"));
        table.AddRow("output", Markup.Escape($"{planned.OutputLayers} layers, {planned.Plan.Jobs.Count} tensors, {Gb(planned.OutputBytes)}" +
            (planned.OutputVocab is int v ? $", vocabulary {v}" : "")));
        table.AddRow("peak memory", Markup.Escape($"≈ {Gb(planned.PeakMemoryBytes(threads))} working set on {threads} threads (inputs stream through the page cache)"));
        AnsiConsole.Write(table);
        foreach (var note in planned.Notes) AnsiConsole.MarkupLine($"[blue]note:[/] {Markup.Escape(note)}");
        foreach (var warning in planned.Warnings) AnsiConsole.MarkupLine($"[yellow]warning:[/] {Markup.Escape(warning)}");
    }

    public static void PrintJson(PlannedRecipe planned, int threads)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var json = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteBoolean("ok", true);
            WriteJsonFields(json, planned, threads);
            json.WriteEndObject();
        }
        stdout.WriteByte((byte)'\n');
    }

    /// <summary>The fields of one planned recipe, into an object the caller has opened (a multi-stage check nests one per stage).</summary>
    public static void WriteJsonFields(Utf8JsonWriter json, PlannedRecipe planned, int threads)
    {
        json.WriteString("recipe", planned.Recipe.File);
        json.WriteString("method", planned.Plan.Method.Name);
        json.WriteString("compat", planned.Compat.ToString().ToLowerInvariant());
        json.WriteStartArray("models");
        foreach (var (name, model) in planned.Models)
        {
            json.WriteStartObject();
            json.WriteString("reference", name);
            json.WriteString("path", model.Path);
            json.WriteBoolean("base", name == planned.Recipe.BaseModel);
            json.WriteNumber("layers", model.LayerCount);
            json.WriteNumber("bytes", model.Weights.TotalBytes);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteNumber("output_layers", planned.OutputLayers);
        json.WriteNumber("output_tensors", planned.Plan.Jobs.Count);
        json.WriteNumber("output_bytes", planned.OutputBytes);
        if (planned.OutputVocab is int v) json.WriteNumber("output_vocab", v);
        json.WriteNumber("peak_memory_bytes", planned.PeakMemoryBytes(threads));
        json.WriteStartArray("notes");
        foreach (var n in planned.Notes) json.WriteStringValue(n);
        json.WriteEndArray();
        json.WriteStartArray("warnings");
        foreach (var w in planned.Warnings) json.WriteStringValue(w);
        json.WriteEndArray();
    }

    public static string Gb(long bytes) => bytes >= 1L << 30
        ? (bytes / (double)(1L << 30)).ToString("0.00", CultureInfo.InvariantCulture) + " GiB"
        : (bytes / (double)(1L << 20)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB";
}
