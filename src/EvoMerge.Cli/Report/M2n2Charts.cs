using EvoMerge.Evolution.M2n2;
using ScottPlot;

namespace EvoMerge.Cli.Report;

/// <summary>
/// An M2N2 stage's three pictures from <c>ps/m2n2-report.json</c>: the archive's coverage of the items tell by tell,
/// the family tree of the best child, and where the split points of its ancestry fell in the parameter order.
/// </summary>
static class M2n2Charts
{
    const int Width = 900, Height = 500;

    /// <summary>A tree wider than this shows its nearest generations only; the JSON and .md reports hold it whole.</summary>
    const int MaxTreeNodes = 48;

    /// <summary>Coverage (right axis, 0–1) beside each child's fitness and the best so far (left axis).</summary>
    public static void Coverage(M2n2Report report, string png)
    {
        var plot = new Plot();
        double[] tells = report.Steps.Select(s => (double)(s.Tell + 1)).ToArray();
        var children = plot.Add.ScatterPoints(tells, report.Steps.Select(s => s.Fitness).ToArray());
        children.LegendText = "child fitness";
        children.MarkerSize = 4;
        double best = double.NegativeInfinity;
        var soFar = plot.Add.Scatter(tells, report.Steps.Select(s => best = Math.Max(best, s.Fitness)).ToArray());
        soFar.LegendText = "best so far";
        soFar.MarkerSize = 0;
        soFar.LineWidth = 2;
        var coverage = plot.Add.Scatter(tells, report.Steps.Select(s => s.Coverage).ToArray());
        coverage.LegendText = "archive coverage of the items (right axis)";
        coverage.MarkerSize = 0;
        coverage.Axes.YAxis = plot.Axes.Right;
        plot.Axes.Right.Label.Text = "coverage";
        plot.Axes.SetLimitsY(0, 1, plot.Axes.Right);
        plot.Title($"M2N2: {report.Steps.Count} children, archive {report.Settings.ArchiveSize}, α {report.Settings.Alpha}");
        plot.XLabel("child (tell)");
        plot.YLabel("fitness (higher is better)");
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(png, Width, Height);
    }

    /// <summary>
    /// The best child on the right, its parents one column to the left, and so on back to the sources; an ancestor
    /// reached by two lines sits in the column of its nearest descendant. Solid: parent 1; dashed: parent 2.
    /// </summary>
    public static void FamilyTree(M2n2Report report, string png)
    {
        var family = report.Family.ToDictionary(a => a.Id);
        var depth = new Dictionary<int, int> { [report.Best] = 0 };
        var queue = new Queue<int>([report.Best]);
        while (queue.Count > 0)
        {
            int id = queue.Dequeue();
            foreach (int parent in family[id].Parents)
                if (family.ContainsKey(parent) && depth.TryAdd(parent, depth[id] + 1)) queue.Enqueue(parent);
        }
        int shownDepth = depth.Values.Max();
        while (shownDepth > 1 && depth.Values.Count(d => d <= shownDepth) > MaxTreeNodes) shownDepth--;

        var place = new Dictionary<int, Coordinates>();
        foreach (var column in depth.Where(kv => kv.Value <= shownDepth).GroupBy(kv => kv.Value))
        {
            var ids = column.Select(kv => kv.Key).Order().ToList();
            for (int i = 0; i < ids.Count; i++) place[ids[i]] = new Coordinates(-column.Key, i - (ids.Count - 1) / 2.0);
        }
        var plot = new Plot();
        foreach (var (id, at) in place)
        {
            var parents = family[id].Parents;
            for (int k = 0; k < parents.Length; k++)
                if (place.TryGetValue(parents[k], out var from))
                {
                    var line = plot.Add.Line(from, at);
                    line.Color = Colors.Gray;
                    if (k == 1) line.LinePattern = LinePattern.Dashed;
                }
        }
        foreach (var (id, at) in place)
        {
            var a = family[id];
            var dot = plot.Add.Marker(at);
            dot.Size = 10;
            dot.Color = a.Parents.Length == 0 ? Colors.DarkOrange : id == report.Best ? Colors.Crimson : Colors.SteelBlue;
            string what = a.Parents.Length == 0 ? $"source {id}" : $"#{id} w {a.Weight:0.00}";
            var label = plot.Add.Text(double.IsNaN(a.Fitness) ? what : $"{what}\n{a.Fitness:0.###}", at.X, at.Y);
            label.LabelFontSize = 10;
            label.OffsetY = 8;
            label.LabelAlignment = Alignment.UpperCenter;
        }
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual();
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, shownDepth + 1).Select(d => (double)-d).ToArray(),
            Enumerable.Range(0, shownDepth + 1).Select(d => d == 0 ? "best" : $"−{d}").ToArray());
        plot.Axes.Margins(0.08, 0.15);
        bool cut = shownDepth < depth.Values.Max();
        plot.Title($"family tree of child {report.Best}" + (cut ? $" (nearest {shownDepth} generations of {depth.Values.Max()})" : ""));
        plot.XLabel("generations back from the best child (dashed: parent 2)");
        plot.SavePng(png, Width, Math.Max(Height, 60 * place.Values.GroupBy(c => c.X).Max(g => g.Count())));
    }

    /// <summary>Each crossover of the best child's ancestry: where its split fell, as a share of the flattened parameters.</summary>
    public static void SplitPoints(M2n2Report report, string png)
    {
        var plot = new Plot();
        var splits = report.SplitPoints;
        var points = plot.Add.ScatterPoints(splits.Select(s => 100 * s.Fraction).ToArray(), splits.Select(s => (double)s.Child).ToArray());
        points.MarkerSize = 8;
        if (splits.Count <= 24)
            foreach (var s in splits)
            {
                var label = plot.Add.Text(s.Where, 100 * s.Fraction, s.Child);
                label.LabelFontSize = 9;
                // Labels of splits in the right part read leftwards, so they stay inside the plot.
                bool right = s.Fraction > 0.6;
                label.OffsetX = right ? -6 : 6;
                label.LabelAlignment = right ? Alignment.MiddleRight : Alignment.MiddleLeft;
            }
        plot.Axes.SetLimitsX(0, 100);
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.Title($"split points in the best child's ancestry ({splits.Count})");
        plot.XLabel($"position in the flattened parameter order (% of {report.Parameters:N0})");
        plot.YLabel("child");
        plot.SavePng(png, Width, Height);
    }
}
