using SkiaSharp;

namespace EvoMerge.Demo.Diffusion;

/// <summary>
/// Draws a <see cref="Picture"/> with SkiaSharp on a grey ground: apples as discs, cards as squares, pens as
/// upright bars, flowers as plus signs, each in its grid cell with a small seeded offset. No antialiasing: at 16×16
/// every pixel is either thing or ground.
/// </summary>
public static class PictureRenderer
{
    public const int Size = 16;

    static readonly SKColor Ground = new(128, 128, 128);

    static readonly SKColor[] Colours =
    [
        new(220, 30, 30), new(40, 70, 230), new(250, 250, 250), new(10, 10, 10), new(30, 190, 50), new(245, 220, 30),
    ];

    /// <summary>RGB in [−1, 1], channel-major [3, size, size].</summary>
    public static float[] Pixels(Picture picture, Random jitter)
    {
        using var bitmap = Draw(picture, jitter);
        var result = new float[3 * Size * Size];
        for (int y = 0; y < Size; y++)
            for (int x = 0; x < Size; x++)
            {
                var c = bitmap.GetPixel(x, y);
                int i = y * Size + x;
                result[i] = c.Red / 127.5f - 1;
                result[Size * Size + i] = c.Green / 127.5f - 1;
                result[2 * Size * Size + i] = c.Blue / 127.5f - 1;
            }
        return result;
    }

    public static SKBitmap Draw(Picture picture, Random jitter)
    {
        var bitmap = new SKBitmap(new SKImageInfo(Size, Size, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(Ground);
        using var paint = new SKPaint { Color = Colours[picture.Colour], IsAntialias = false, Style = SKPaintStyle.Fill };
        const float cell = Size / (float)PictureWorld.GridSide;
        foreach (int c in picture.Cells)
        {
            float cx = (c % PictureWorld.GridSide + 0.5f) * cell + jitter.Next(-1, 1) * 0.5f;
            float cy = (c / PictureWorld.GridSide + 0.5f) * cell + jitter.Next(-1, 1) * 0.5f;
            switch (picture.Thing.EnOne)
            {
                case "apple": canvas.DrawCircle(cx, cy, 2.3f, paint); break;
                case "card": canvas.DrawRect(cx - 2, cy - 2, 4, 4, paint); break;
                case "pen": canvas.DrawRect(cx - 0.75f, cy - 2.5f, 1.5f, 5, paint); break;
                default:
                    canvas.DrawRect(cx - 2.5f, cy - 0.5f, 5, 1, paint);
                    canvas.DrawRect(cx - 0.5f, cy - 2.5f, 1, 5, paint);
                    break;
            }
        }
        return bitmap;
    }
}
