using System.Globalization;
using EvoMerge.Demo.Replicate;
using EvoMerge.Evaluation;
using Spectre.Console;

namespace EvoMerge.Cli.Demo;

/// <summary>The replicate's three tables: rows over worlds, the Table-1 inequalities per world, dev-to-test gaps.</summary>
internal static class ReplicateTable
{
    public static void Write(IAnsiConsole console, ReplicateSummary summary)
    {
        string worlds = string.Join(", ", summary.Seeds);
        var rows = new Table().Border(TableBorder.Rounded)
            .Title($"Miniature EvoLLM-JP over {summary.Seeds.Count} worlds (seeds {worlds}{(summary.Quick ? ", quick" : "")}): test accuracy %, mean [[95% t-interval over worlds]]")
            .AddColumn("model").AddColumn(new TableColumn("worlds").RightAligned());
        foreach (string c in new[] { "JA math strict", "JA math number", "EN math", "JA QA", "dev strict" }) rows.AddColumn(new TableColumn(c).RightAligned());
        foreach (var r in summary.Rows)
            rows.AddRow(Markup.Escape(r.Name), r.Worlds.ToString(CultureInfo.InvariantCulture), M(r.JaMathStrict), M(r.JaMathNumber), M(r.EnMath), M(r.JaQa),
                r.DevJaMathStrict is { } d ? M(d) : "");
        console.Write(rows);

        WriteClaims(console, "Table 1's inequalities on strict JA math: difference in points [95% paired bootstrap over test items]",
            summary.Comparisons, D);

        var gaps = new Table().Border(TableBorder.Rounded)
            .Title("Dev-to-test gap of the selected models (points) beside the test split's noise (half-width of its 95% Wilson interval)")
            .AddColumn("world").AddColumn("model");
        foreach (string c in new[] { "dev", "test", "gap", "test noise ±" }) gaps.AddColumn(new TableColumn(c).RightAligned());
        gaps.AddColumn("within noise");
        foreach (var g in summary.Gaps)
            gaps.AddRow(g.Seed.ToString(CultureInfo.InvariantCulture), Markup.Escape(g.Name), P(g.Dev), P(g.Test), P(g.Gap), P(g.TestNoise), g.WithinNoise ? "yes" : "no");
        console.Write(gaps);
    }

    /// <summary>One row per claim and world: left − right with its interval, and whether the interval excludes 0.</summary>
    public static void WriteClaims(IAnsiConsole console, string title, IEnumerable<Comparison> comparisons, Func<ScoreDifference, string> format)
    {
        var claims = new Table().Border(TableBorder.Rounded).Title(Markup.Escape(title))
            .AddColumn("claim").AddColumn("world").AddColumn("left − right")
            .AddColumn(new TableColumn("difference").RightAligned()).AddColumn("interval excludes 0");
        foreach (var c in comparisons)
            claims.AddRow(Markup.Escape(c.Claim), c.World, Markup.Escape($"{c.Left} − {c.Right}"), Markup.Escape(format(c.Difference)),
                c.Difference.Lower > 0 ? "yes, above" : c.Difference.Upper < 0 ? "yes, below" : "no");
        console.Write(claims);
    }

    static string P(double fraction) => (100 * fraction).ToString("0.0", CultureInfo.InvariantCulture);

    // Escaped: Spectre reads square brackets in a cell as markup.
    static string M(MeanInterval m) => m.Lower is double lo && m.Upper is double hi ? $"{P(m.Mean)} [[{P(lo)}, {P(hi)}]]" : P(m.Mean);

    static string D(ScoreDifference d) => $"{100 * d.Difference:+0.0;-0.0;0.0} [{100 * d.Lower:+0.0;-0.0;0.0}, {100 * d.Upper:+0.0;-0.0;0.0}]";
}
