using System.Net;
using System.Text;

namespace EvoMerge.Demo.Vision;

/// <summary>
/// The VLM demo's own HTML page (<c>report.html</c>): the table, the paired comparisons, and a grid of test examples
/// (picture, question, reference, V's reply, the evolved model's reply). Pictures are embedded, so the page stands alone.
/// </summary>
public static class VlmExamplesPage
{
    public const string FileName = "report.html";

    public static string Write(VlmDemoSummary summary, string dataFolder, string outputFolder)
    {
        var h = new StringBuilder();
        h.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Miniature EvoVLM-JP</title><style>")
         .Append("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}")
         .Append("td:first-child,th:first-child{text-align:left}.grid{display:grid;grid-template-columns:repeat(5,1fr);gap:12px}")
         .Append(".ex{border:1px solid #ccc;padding:8px}.ex img{width:144px;height:144px;image-rendering:pixelated}.ok{color:#070}.bad{color:#a00}")
         .Append("</style></head><body>");
        h.Append($"<h1>Miniature EvoVLM-JP (seed {summary.Seed}{(summary.Quick ? ", quick" : "")})</h1>");
        h.Append($"<p>Japanese VQA test split, {summary.TestItems} questions. ROUGE-L F1×100 with the language rule (a reply not in Japanese counts as empty); key = exact match of the key word (colour, count with counter, kind).</p>");
        h.Append("<table><tr><th>model</th><th>ROUGE-L</th><th>key %</th><th>in Japanese %</th><th>EN key %</th><th>dev ROUGE-L</th><th>evaluations</th><th>seconds</th></tr>");
        foreach (var r in summary.Rows)
            h.Append($"<tr><td>{E(r.Name)}</td><td>{r.RougeL:0.0}</td><td>{100 * r.KeyMatch:0.0}</td><td>{100 * r.InJapanese:0.0}</td>")
             .Append($"<td>{(r.EnglishKeyMatch is double en ? (100 * en).ToString("0.0") : "")}</td><td>{(r.DevRougeL is double d ? d.ToString("0.0") : "")}</td>")
             .Append($"<td>{r.Evaluations}</td><td>{r.Seconds:0}</td></tr>");
        h.Append("</table>");
        if (summary.Comparisons.Count > 0)
        {
            h.Append("<h2>Paired bootstrap (95%) of the ROUGE-L difference on the test items</h2><table><tr><th>model − against</th><th>difference</th><th>95% interval</th><th>key % difference</th></tr>");
            foreach (var c in summary.Comparisons)
                h.Append($"<tr><td>{E(c.Model)} − {E(c.Against)}</td><td>{c.Difference:+0.0;-0.0}</td><td class=\"{(c.Lower > 0 ? "ok" : "bad")}\">[{c.Lower:0.0}, {c.Upper:0.0}]</td><td>{100 * c.KeyMatchDifference:+0.0;-0.0}</td></tr>");
            h.Append("</table>");
        }
        foreach (var r in summary.Rows.Where(r => r.Recipe != null))
            h.Append($"<p><b>{E(r.Name)}</b>: {E(r.Recipe!)}</p>");
        h.Append("<h2>Test examples</h2><div class=\"grid\">");
        foreach (var x in summary.Examples)
        {
            string png = Convert.ToBase64String(File.ReadAllBytes(Path.Combine(dataFolder, x.Image)));
            h.Append($"<div class=\"ex\"><img alt=\"{E(x.Image)}\" src=\"data:image/png;base64,{png}\"><div>問: {E(x.Question)}</div><div>reference: {E(x.Reference)}</div>");
            foreach (var (model, reply) in x.Replies)
                h.Append($"<div>{E(model)}: <b>{E(reply)}</b></div>");
            h.Append("</div>");
        }
        h.Append("</div></body></html>");
        string path = Path.Combine(outputFolder, FileName);
        File.WriteAllText(path + ".partial", h.ToString());
        File.Move(path + ".partial", path, overwrite: true);
        return path;
    }

    static string E(string s) => WebUtility.HtmlEncode(s);
}
