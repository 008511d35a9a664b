using System.Globalization;
using System.Text;

namespace EvoMerge.Evolution.M2n2;

/// <summary><c>ps/m2n2-report.md</c>: the report in words, for reading without tools.</summary>
public static class M2n2ReportText
{
    public static string Write(M2n2Report report, IReadOnlyList<string> models)
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.AppendLine(c, $"# M2N2 run: {report.Steps.Count} children, best child {report.Best}");
        text.AppendLine();
        text.AppendLine(c, $"archive {report.Settings.ArchiveSize}, α {report.Settings.Alpha}, attraction {(report.Settings.Attraction ? "on" : "off")}, " +
            $"split points {report.Settings.SplitPoints.ToString().ToLowerInvariant()}, mutation {(report.Settings.Mutation ? "on" : "off")}, " +
            $"{report.Parameters:N0} parameters in the flattened order");
        text.AppendLine();
        text.AppendLine("## Coverage of the fitness items by the archive");
        text.AppendLine();
        text.AppendLine("| tell | members | coverage | best fitness so far |");
        text.AppendLine("|---|---|---|---|");
        double best = double.NegativeInfinity;
        int every = Math.Max(1, report.Steps.Count / 20);
        foreach (var s in report.Steps)
        {
            best = Math.Max(best, s.Fitness);
            if (s.Tell % every == 0 || s.Tell == report.Steps.Count - 1)
                text.AppendLine(c, $"| {s.Tell + 1} | {s.Members} | {s.Coverage:P1} | {best:F4} |");
        }
        text.AppendLine();
        text.AppendLine("## Family tree of the best child");
        text.AppendLine();
        var family = report.Family.ToDictionary(a => a.Id);
        var shown = new HashSet<int>();
        void Node(int id, int depth, string role)
        {
            var a = family[id];
            bool first = shown.Add(id);
            string what = a.Parents.Length == 0 ? $"source {models[id]}"
                : $"w {a.Weight:F3}" + (a.Split is long p ? $", split at {100.0 * p / report.Parameters:F1} %" : "");
            text.AppendLine(c, $"{new string(' ', 2 * depth)}- {role}child {id} (fitness {a.Fitness:F4}): {what}{(first ? "" : " (see above)")}");
            // An ancestor reached twice is expanded once; a very long ancestry is in the JSON report whole.
            if (!first || a.Parents.Length != 2 || shown.Count > 200) return;
            Node(a.Parents[0], depth + 1, "parent 1: ");
            Node(a.Parents[1], depth + 1, "parent 2: ");
        }
        Node(report.Best, 0, "");
        text.AppendLine();
        text.AppendLine("## Split points in the best child's ancestry");
        text.AppendLine();
        foreach (var s in report.SplitPoints) text.AppendLine(c, $"- child {s.Child}: {s.Where}");
        return text.ToString();
    }
}
