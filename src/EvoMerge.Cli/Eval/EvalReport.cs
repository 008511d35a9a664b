using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using EvoMerge.Cli.Commands;
using EvoMerge.Evaluation;
using Spectre.Console;

namespace EvoMerge.Cli.Eval;

/// <summary>Prints an <see cref="EvalResult"/>: a table for people, or one JSON object for scripts.</summary>
static class EvalReport
{
    public static void Print(IAnsiConsole console, EvalResult result, EvalCommand.Settings settings)
    {
        if (settings.Json)
        {
            // Straight to the console's writer: Spectre would wrap a long line at the terminal width.
            var writer = console.Profile.Out.Writer;
            writer.WriteLine(JsonSerializer.Serialize(new
            {
                task = result.Task,
                model = settings.Model,
                data = settings.Data,
                items = result.Items.Count,
                metrics = result.Metrics.ToDictionary(m => m.Name, m => new { value = m.Value, ci95_lower = m.Lower, ci95_upper = m.Upper }),
                @out = settings.Out,
            }, new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
            writer.Flush();
            return;
        }
        var table = new Table().AddColumns("metric", "value", "95% CI");
        table.Title = new TableTitle($"{result.Task} — {result.Items.Count} items — {settings.Model}".EscapeMarkup());
        foreach (var m in result.Metrics)
            table.AddRow(m.Name, Format(m.Value, m), m.Lower is { } lo && m.Upper is { } hi ? $"{Format(lo, m)} – {Format(hi, m)}" : "");
        console.Write(table);
        if (settings.Out != null) console.MarkupLineInterpolated($"items written to [bold]{settings.Out}[/]");
    }

    /// <summary>Proportions as percentages (how accuracies are quoted); others with four significant digits.</summary>
    static string Format(double value, Metric metric) =>
        metric.Lower != null ? (100 * value).ToString("0.0", CultureInfo.InvariantCulture) + "%"
        : value.ToString("G4", CultureInfo.InvariantCulture);
}
