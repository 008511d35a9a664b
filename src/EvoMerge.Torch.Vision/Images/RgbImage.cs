namespace EvoMerge.Torch.Vision.Images;

/// <summary>An 8-bit RGB image, row-major, 3 bytes per pixel (what PIL calls mode "RGB").</summary>
public sealed record RgbImage(int Width, int Height, byte[] Pixels)
{
    public byte this[int x, int y, int channel] => Pixels[(y * Width + x) * 3 + channel];
}
