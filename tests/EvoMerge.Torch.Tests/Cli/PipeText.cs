using System.Text.RegularExpressions;

namespace EvoMerge.Torch.Tests.Cli;

/// <summary>What CLI output read from a pipe must look like: whole table rows, whole progress lines.</summary>
static partial class PipeText
{
    /// <summary>A demo search's generation line, whole: phase, stage, counts, speed and the statistics at its end.</summary>
    [GeneratedRegex(@"^\s+\S+ (ps|dfs) generation \d+/\d+ done, [\d.]+ evals/s; before it: best \S+ mean \S+ σ \S+$")]
    public static partial Regex GenerationLine();

    /// <summary>No escape codes; every line that starts a table row ends it; all rows of one table have one width.</summary>
    public static void AssertTablesWhole(string stdout, int minTables)
    {
        Assert.DoesNotContain('\u001b', stdout);
        Assert.DoesNotContain('\r', stdout);
        var rows = stdout.Split('\n').Where(l => l.Length > 0 && "│┌├└╭╰┏┃".Contains(l[0])).ToList();
        Assert.True(rows.Count >= 3, stdout);
        foreach (string row in rows) Assert.True("│┐┤┘╮╯┓┃".Contains(row[^1]), $"table row split over lines: '{row}'");
        int tables = 0, width = -1;
        foreach (string row in rows)
        {
            if (row[0] is '┌' or '╭') { tables++; width = row.Length; }
            else Assert.True(row.Length == width, $"row width {row.Length} differs from its table's {width}: '{row}'");
        }
        Assert.True(tables >= minTables, stdout);
    }
}
