using System.Globalization;
using EvoMerge.Demo;
using Spectre.Console;

namespace EvoMerge.Cli.Demo;

/// <summary>The comparison in the style of the paper's Table 1 (test-split accuracies in %, dev beside them).</summary>
static class DemoTable
{
    public static void Write(IAnsiConsole console, DemoSummary summary)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"Miniature EvoLLM-JP (seed {summary.Seed}{(summary.Quick ? ", quick" : "")}): test accuracy %")
            .AddColumn("model")
            .AddColumn(new TableColumn("JA math strict").RightAligned())
            .AddColumn(new TableColumn("JA math number").RightAligned())
            .AddColumn(new TableColumn("EN math").RightAligned())
            .AddColumn(new TableColumn("JA QA").RightAligned())
            .AddColumn(new TableColumn("dev strict").RightAligned())
            .AddColumn(new TableColumn("evaluations").RightAligned())
            .AddColumn(new TableColumn("seconds").RightAligned());
        double bestStrict = summary.Rows.Max(r => r.JaMathStrict);
        foreach (var r in summary.Rows)
        {
            string strict = Percent(r.JaMathStrict);
            table.AddRow(
                Markup.Escape(r.Name),
                r.JaMathStrict == bestStrict ? $"[bold green]{strict}[/]" : strict,
                Percent(r.JaMathNumber), Percent(r.EnMath), Percent(r.JaQa),
                r.DevJaMathStrict is double d ? Percent(d) : "",
                r.Evaluations.ToString(CultureInfo.InvariantCulture),
                r.Seconds.ToString("0.0", CultureInfo.InvariantCulture));
        }
        console.Write(table);
        foreach (var r in summary.Rows.Where(r => r.Name.StartsWith("evolved", StringComparison.Ordinal) && r.Recipe != null))
            console.MarkupLineInterpolated($"[bold]{r.Name}[/]: {r.Recipe}");
        console.MarkupLineInterpolated($"Total {summary.Seconds:0} s.");
    }

    static string Percent(double fraction) => (100 * fraction).ToString("0.0", CultureInfo.InvariantCulture);
}
