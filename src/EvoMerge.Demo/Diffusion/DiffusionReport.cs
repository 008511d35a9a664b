using System.Globalization;
using System.Net;
using System.Text;
using SkiaSharp;
using static TorchSharp.torch;

namespace EvoMerge.Demo.Diffusion;

/// <summary>
/// The diffusion demo's HTML report: the table, and per row one PNG grid of its images for the same test prompts and
/// seeds (the first <see cref="Columns"/>), beside the real pictures the prompts describe. People would rather look.
/// </summary>
public static class DiffusionReport
{
    public const int Columns = 12, Scale = 4, Gap = 2;

    /// <returns>the path of index.html</returns>
    public static string Write(string folder, IReadOnlyList<DiffusionRow> rows, IReadOnlyList<(string Name, Tensor Images)> grids, Tensor real,
        IReadOnlyList<EvalPrompt> prompts)
    {
        Directory.CreateDirectory(folder);
        int n = Math.Min(Columns, prompts.Count);
        var html = new StringBuilder();
        html.Append("<!doctype html><html><head><meta charset=\"utf-8\"><title>EvoMerge demo diffusion</title><style>")
            .Append("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}")
            .Append("td.name,th.name{text-align:left}img{image-rendering:pixelated}.prompts span{display:inline-block;width:")
            .Append(16 * Scale + Gap).Append("px;font-size:11px;text-align:center;vertical-align:top}</style></head><body>")
            .Append("<h1>Miniature EvoSDXL-JP</h1><p>Japanese test prompts, DDIM, no guidance. Fidelity: the judge's probability that the image shows ")
            .Append("what the prompt says (higher is better). Realism: Fréchet distance of the judge's features to real pictures (lower is better).</p>")
            .Append("<table><tr><th class=\"name\">model</th><th>steps</th><th>fidelity</th><th>realism FD</th><th>dev fidelity</th><th>evaluations</th></tr>");
        foreach (var r in rows)
            html.Append(CultureInfo.InvariantCulture, $"<tr><td class=\"name\">{WebUtility.HtmlEncode(r.Name)}</td><td>{r.Steps}</td><td>{r.Fidelity:F3}</td><td>{r.RealismFd:F2}</td><td>{(r.DevFidelity is double d ? d.ToString("F3", CultureInfo.InvariantCulture) : "")}</td><td>{r.Evaluations}</td></tr>");
        html.Append("</table><h2>Images (same prompts and seeds in every row)</h2><div class=\"prompts\">");
        foreach (var p in prompts.Take(n)) html.Append("<span>").Append(WebUtility.HtmlEncode(p.Picture.Japanese)).Append("</span>");
        html.Append("</div>");
        foreach (var (name, images) in grids.Prepend(("real", real)))
        {
            string file = FileName(name);
            WriteGrid(Path.Combine(folder, file), images, n);
            html.Append("<h3>").Append(WebUtility.HtmlEncode(name)).Append("</h3><img src=\"").Append(file).Append("\" alt=\"").Append(WebUtility.HtmlEncode(name)).Append("\">");
        }
        html.Append("</body></html>\n");
        string index = Path.Combine(folder, "index.html");
        File.WriteAllText(index, html.ToString());
        return index;
    }

    public static string FileName(string rowName) => new string(rowName.Select(c => char.IsLetterOrDigit(c) || c == '-' ? c : '_').ToArray()) + ".png";

    /// <summary>The first <paramref name="count"/> images of [n, 3, s, s] in [−1, 1], side by side, each scaled up by nearest neighbour.</summary>
    public static void WriteGrid(string path, Tensor images, int count)
    {
        int size = (int)images.shape[2], cell = size * Scale;
        using var pixels = ((images[..count].clamp(-1, 1) + 1) * 127.5).round().to_type(ScalarType.Byte).permute(0, 2, 3, 1).contiguous();
        var bytes = pixels.data<byte>().ToArray();
        using var bitmap = new SKBitmap(new SKImageInfo(count * (cell + Gap) - Gap, cell, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(bitmap)) canvas.Clear(SKColors.White);
        for (int i = 0; i < count; i++)
            for (int y = 0; y < cell; y++)
                for (int x = 0; x < cell; x++)
                {
                    int k = ((i * size + y / Scale) * size + x / Scale) * 3;
                    bitmap.SetPixel(i * (cell + Gap) + x, y, new SKColor(bytes[k], bytes[k + 1], bytes[k + 2]));
                }
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        data.SaveTo(file);
    }
}
