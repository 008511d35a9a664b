using System.Globalization;
using System.Net;
using System.Text;
using EvoMerge.Reporting;

namespace EvoMerge.Cli.Report;

/// <summary>Writes <c>report/index.html</c> and its PNGs for a run folder; returns the page's path.</summary>
static class HtmlReport
{
    public static string Write(RunData run, string outputDirectory)
    {
        Directory.CreateDirectory(outputDirectory);
        var html = new StringBuilder();
        html.Append($$"""
            <!doctype html><html><head><meta charset="utf-8"><title>EvoMerge run {{Encode(run.Root)}}</title>
            <style>body{font-family:sans-serif;max-width:960px;margin:auto} table{border-collapse:collapse}
            td,th{border:1px solid #ccc;padding:4px 8px;text-align:right} td:first-child,th:first-child{text-align:left}</style>
            </head><body><h1>Evolution run</h1><p><code>{{Encode(run.Root)}}</code></p>
            """);
        if (run.Summary is { } summary)
        {
            html.Append($"<h2>Comparison on the test split</h2><p>{Encode(summary.Name)}, seed {summary.Seed}, space {summary.Space}</p>");
            var tasks = summary.Models.SelectMany(m => m.TestScores.Keys).Distinct().ToList();
            html.Append("<table><tr><th>model</th>").Append(string.Concat(tasks.Select(t => $"<th>{Encode(t)}</th>")))
                .Append("<th>dev fitness</th><th>evaluations</th><th>search s</th></tr>");
            foreach (var row in summary.Models)
                html.Append($"<tr><td>{Encode(row.Label)}</td>")
                    .Append(string.Concat(tasks.Select(t => $"<td>{(row.TestScores.TryGetValue(t, out double v) ? Number(v) : "")}</td>")))
                    .Append($"<td>{(row.DevFitness is double f ? Number(f) : "")}</td><td>{row.Evaluations}</td><td>{row.SearchSeconds:0}</td></tr>");
            html.Append("</table><h2>Cost per candidate</h2><table><tr><th>stage</th><th>evaluations</th><th>cache hits</th>" +
                "<th>build s</th><th>score s</th><th>build ÷ score</th></tr>");
            foreach (var s in summary.Stages)
                html.Append($"<tr><td>{s.Stage}</td><td>{s.Evaluations}</td><td>{s.CacheHits}</td><td>{Number(s.BuildSecondsPerCandidate)}</td>" +
                    $"<td>{Number(s.ScoreSecondsPerCandidate)}</td><td>{s.OverheadRatio:P1}</td></tr>");
            html.Append("</table>");
        }
        else html.Append("<p>The run has not finished (no summary.json): the plots show the journal so far.</p>");

        foreach (var stage in run.Stages)
        {
            html.Append($"<h2>{stage.Stage.ToUpperInvariant()} stage</h2>");
            Image(html, outputDirectory, $"{stage.Stage}-fitness.png", png => ReportCharts.FitnessCurve(stage, png));
            if (stage.PsRecipe is { } recipe)
                foreach (var parameter in recipe.Parameters)
                    Image(html, outputDirectory, $"{stage.Stage}-{parameter}.png", png => ReportCharts.Heatmap(recipe, parameter, png));
            if (stage.Path is { } path)
                Image(html, outputDirectory, $"{stage.Stage}-path.png", png => ReportCharts.Path(path, png));
            if (stage.M2n2 is { } m2n2)
            {
                Image(html, outputDirectory, $"{stage.Stage}-m2n2-coverage.png", png => M2n2Charts.Coverage(m2n2, png));
                Image(html, outputDirectory, $"{stage.Stage}-m2n2-family.png", png => M2n2Charts.FamilyTree(m2n2, png));
                if (m2n2.SplitPoints.Count > 0)
                    Image(html, outputDirectory, $"{stage.Stage}-m2n2-splits.png", png => M2n2Charts.SplitPoints(m2n2, png));
            }
        }
        html.Append("</body></html>\n");
        string page = Path.Combine(outputDirectory, "index.html");
        File.WriteAllText(page, html.ToString());
        return page;
    }

    static void Image(StringBuilder html, string directory, string name, Action<string> draw)
    {
        draw(Path.Combine(directory, name));
        html.Append($"<p><img src=\"{name}\" alt=\"{name}\" style=\"max-width:100%\"></p>");
    }

    static string Number(double v) => v.ToString("0.####", CultureInfo.InvariantCulture);
    static string Encode(string s) => WebUtility.HtmlEncode(s);
}
