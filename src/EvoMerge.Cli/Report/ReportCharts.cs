using EvoMerge.Candidates;
using EvoMerge.Merge.Recipes;
using EvoMerge.Reporting;
using ScottPlot;

namespace EvoMerge.Cli.Report;

/// <summary>The report's PNGs, drawn with ScottPlot.</summary>
static class ReportCharts
{
    const int Width = 900, Height = 500;

    /// <summary>Best and mean fitness per generation, and the best so far on the full dev set.</summary>
    public static void FitnessCurve(StageData stage, string png)
    {
        var plot = new Plot();
        double[] generations = Enumerable.Range(0, stage.Best.Length).Select(g => (double)g).ToArray();
        var mean = plot.Add.Scatter(generations, stage.Mean);
        mean.LegendText = "generation mean";
        var best = plot.Add.Scatter(generations, stage.Best);
        best.LegendText = "generation best";
        var soFar = plot.Add.Scatter(generations, stage.BestSoFar);
        soFar.LegendText = "best so far (full dev set)";
        soFar.LineWidth = 2;
        soFar.MarkerSize = 0;
        IntegerTicks(plot.Axes.Bottom);
        plot.Title($"{stage.Stage.ToUpperInvariant()} fitness by generation");
        plot.XLabel("generation");
        plot.YLabel("fitness (higher is better)");
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(png, Width, Height);
    }

    /// <summary>One heatmap per evolved parameter: source models down, tensor groups across, values written in the cells.</summary>
    public static void Heatmap(GroupedRecipe recipe, string parameter, string png)
    {
        int models = recipe.Models.Count, groups = recipe.Groups.Count;
        var values = new double[models, groups];
        for (int m = 0; m < models; m++)
            for (int g = 0; g < groups; g++)
                values[m, g] = recipe.Value(g, m, parameter);

        var plot = new Plot();
        var map = plot.Add.Heatmap(values);
        map.Colormap = new ScottPlot.Colormaps.Viridis();
        plot.Add.ColorBar(map);
        // ScottPlot draws row 0 at the top, cells centred on integer coordinates counted from the bottom.
        for (int m = 0; m < models; m++)
            for (int g = 0; g < groups; g++)
            {
                var label = plot.Add.Text(values[m, g].ToString("0.00"), g, models - 1 - m);
                label.LabelFontColor = Colors.White;
                label.LabelAlignment = Alignment.MiddleCenter;
            }
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, groups).Select(g => (double)g).ToArray(), recipe.Groups.Select(g => g.Name).ToArray());
        plot.Axes.Left.SetTicks(Enumerable.Range(0, models).Select(m => (double)(models - 1 - m)).ToArray(),
            recipe.Models.Select(ModelNames.Short).ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = groups > 6 ? 45 : 0;
        plot.Title($"evolved {parameter} per source model and tensor group");
        plot.SavePng(png, Width, Math.Max(300, 120 + 90 * models));
    }

    /// <summary>The layer path: one point per step at (step, layer), coloured by model, labelled with its scale.</summary>
    public static void Path(LayerPath path, string png)
    {
        var plot = new Plot();
        var steps = path.Steps;
        var line = plot.Add.Scatter(Enumerable.Range(0, steps.Count).Select(i => (double)i).ToArray(),
            steps.Select(s => (double)s.Layer).ToArray());
        line.Color = Colors.Gray.WithAlpha(0.5);
        line.MarkerSize = 0;
        for (int m = 0; m < path.Models.Count; m++)
        {
            var own = steps.Select((s, i) => (s, i)).Where(p => p.s.Model == m).ToList();
            if (own.Count == 0) continue;
            var points = plot.Add.ScatterPoints(own.Select(p => (double)p.i).ToArray(), own.Select(p => (double)p.s.Layer).ToArray());
            points.MarkerSize = 12;
            points.LegendText = $"model {(char)('A' + m)}: {ModelNames.Short(path.Models[m])}";
        }
        for (int i = 0; i < steps.Count; i++)
            if (steps[i].Scale != 1)
            {
                var label = plot.Add.Text($"×{steps[i].Scale:0.00}", i, steps[i].Layer);
                label.OffsetY = -12;
                label.LabelFontSize = 10;
            }
        IntegerTicks(plot.Axes.Bottom);
        IntegerTicks(plot.Axes.Left);
        plot.Title($"layer path: {steps.Count} steps (labels: input scale where not 1)");
        plot.XLabel("step");
        plot.YLabel("layer of its model");
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(png, Width, Height);
    }

    static void IntegerTicks(IAxis axis) => axis.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
}
