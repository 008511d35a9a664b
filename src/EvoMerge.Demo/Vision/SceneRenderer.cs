using SkiaSharp;

namespace EvoMerge.Demo.Vision;

/// <summary>
/// Draws a <see cref="Scene"/> as a 48×48 RGB picture with SkiaSharp: each object a small glyph of its kind in a
/// 16×16 cell, filled with its colour, details in a contrasting ink. Each kind has one feature that tells it from
/// its look-alike (apple: stem; ball: band; cat: pointed ears; dog: hanging ears; book: spine; notebook: ruled
/// lines; card: wide; stamp: perforated edge), so a patch-8 ViT can learn them. Deterministic for a scene.
/// </summary>
public static class SceneRenderer
{
    public const int Size = 48, Cell = 16;

    /// <summary>Mid tones, none of them close to an object colour (white and black objects stay visible).</summary>
    public static readonly IReadOnlyList<SKColor> Backgrounds =
        [new(150, 150, 150), new(176, 146, 112), new(112, 146, 176), new(160, 128, 176)];

    static readonly Dictionary<string, SKColor> Paint = new()
    {
        ["red"] = new(222, 32, 32), ["blue"] = new(32, 64, 224), ["white"] = new(250, 250, 250),
        ["black"] = new(16, 16, 16), ["green"] = new(32, 172, 52), ["yellow"] = new(244, 222, 32),
    };

    /// <summary>The picture as 8-bit RGB, row-major (PIL's mode "RGB").</summary>
    public static byte[] RenderRgb(Scene scene)
    {
        using var bitmap = Render(scene);
        var rgba = bitmap.Bytes;
        var rgb = new byte[Size * Size * 3];
        for (int i = 0; i < Size * Size; i++)
            (rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]) = (rgba[i * 4], rgba[i * 4 + 1], rgba[i * 4 + 2]);
        return rgb;
    }

    /// <summary>The picture as a PNG file's bytes (lossless: decoding gives <see cref="RenderRgb"/> back).</summary>
    public static byte[] RenderPng(Scene scene)
    {
        using var bitmap = Render(scene);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    static SKBitmap Render(Scene scene)
    {
        var bitmap = new SKBitmap(new SKImageInfo(Size, Size, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(Backgrounds[scene.Background]);
        var rng = new Random(scene.Variant);
        // Which cells of the row hold an object, left to right.
        var columns = Enumerable.Range(0, 3).OrderBy(_ => rng.Next()).Take(scene.Count).Order().ToArray();
        var fill = Paint[scene.Colour.En];
        var ink = scene.Colour.En == "black" ? new SKColor(200, 200, 200) : new SKColor(40, 40, 40);
        foreach (int column in columns)
        {
            float cx = column * Cell + Cell / 2f + rng.Next(-1, 2), cy = (int)scene.Row * Cell + Cell / 2f + rng.Next(-1, 2);
            DrawThing(canvas, scene.Thing.EnOne, cx, cy, fill, ink, Backgrounds[scene.Background]);
        }
        canvas.Flush();
        return bitmap;
    }

    static void DrawThing(SKCanvas c, string kind, float x, float y, SKColor fill, SKColor ink, SKColor background)
    {
        using var f = new SKPaint { Color = fill, IsAntialias = true, Style = SKPaintStyle.Fill };
        using var k = new SKPaint { Color = ink, IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = 1.5f };
        using var kf = new SKPaint { Color = ink, IsAntialias = true, Style = SKPaintStyle.Fill };
        using var thick = new SKPaint { Color = ink, IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = 2 };
        switch (kind)
        {
            case "apple":
                c.DrawCircle(x, y + 1, 5.5f, f);
                c.DrawLine(x, y - 4, x + 1, y - 7, k);
                c.DrawOval(x + 2.5f, y - 6, 2, 1, kf);
                break;
            case "ball":
                c.DrawCircle(x, y, 6, f);
                c.DrawLine(x - 6, y, x + 6, y, thick);
                break;
            case "pen":
                using (var body = new SKPaint { Color = fill, IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = 3.5f, StrokeCap = SKStrokeCap.Butt })
                    c.DrawLine(x - 5, y + 5, x + 4, y - 4, body);
                c.DrawLine(x + 4, y - 4, x + 6.5f, y - 6.5f, thick);
                break;
            case "flower":
                for (int p = 0; p < 5; p++)
                {
                    double a = p * 2 * Math.PI / 5 - Math.PI / 2;
                    c.DrawCircle(x + 3.8f * (float)Math.Cos(a), y - 1 + 3.8f * (float)Math.Sin(a), 2.6f, f);
                }
                c.DrawCircle(x, y - 1, 1.6f, kf);
                c.DrawLine(x, y + 3, x, y + 7.5f, k);
                break;
            case "cat":
                using (var ear = new SKPath())
                {
                    ear.MoveTo(x - 5.5f, y - 1); ear.LineTo(x - 4.5f, y - 7.5f); ear.LineTo(x - 1, y - 3.5f); ear.Close();
                    ear.MoveTo(x + 5.5f, y - 1); ear.LineTo(x + 4.5f, y - 7.5f); ear.LineTo(x + 1, y - 3.5f); ear.Close();
                    c.DrawPath(ear, f);
                }
                c.DrawCircle(x, y + 1.5f, 5, f);
                c.DrawCircle(x - 2, y + 1, 0.9f, kf);
                c.DrawCircle(x + 2, y + 1, 0.9f, kf);
                break;
            case "dog":
                c.DrawCircle(x, y, 5, f);
                c.DrawOval(x - 5.5f, y + 1.5f, 1.8f, 4, kf);
                c.DrawOval(x + 5.5f, y + 1.5f, 1.8f, 4, kf);
                c.DrawCircle(x, y + 2, 1.2f, kf);
                break;
            case "book":
                c.DrawRect(x - 4.5f, y - 6.5f, 9, 13, f);
                c.DrawRect(x - 4.5f, y - 6.5f, 2.5f, 13, kf);
                break;
            case "notebook":
                c.DrawRect(x - 5, y - 6.5f, 10, 13, f);
                for (int l = 0; l < 3; l++) c.DrawLine(x - 3.5f, y - 3 + l * 3, x + 3.5f, y - 3 + l * 3, k);
                break;
            case "card":
                c.DrawRoundRect(x - 7, y - 4.5f, 14, 9, 1.5f, 1.5f, f);
                break;
            case "stamp":
                c.DrawRect(x - 5.5f, y - 5.5f, 11, 11, f);
                using (var hole = new SKPaint { Color = background, IsAntialias = true, Style = SKPaintStyle.Fill })
                    for (int h = 0; h < 4; h++)
                    {
                        float o = -4.5f + h * 3;
                        c.DrawCircle(x + o, y - 5.5f, 1, hole); c.DrawCircle(x + o, y + 5.5f, 1, hole);
                        c.DrawCircle(x - 5.5f, y + o, 1, hole); c.DrawCircle(x + 5.5f, y + o, 1, hole);
                    }
                c.DrawRect(x - 2.5f, y - 2.5f, 5, 5, k);
                break;
            default:
                throw new ArgumentException($"no drawing for '{kind}'", nameof(kind));
        }
    }
}
