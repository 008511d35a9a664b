using SkiaSharp;

namespace EvoMerge.Torch.Vision.Images;

/// <summary>
/// Decodes JPEG, PNG and WebP files with SkiaSharp into <see cref="RgbImage"/>, the way PIL's
/// <c>Image.open(path).convert("RGB")</c> does: alpha dropped (not composited), greyscale replicated, palettes
/// looked up, no colour management and no EXIF rotation. The header's dimensions are checked before any pixel
/// buffer is allocated, so a decompression bomb (a few kB declaring 30000×30000) is refused, not decoded.
/// </summary>
public static class ImageDecoder
{
    /// <summary>The default limit: 64 megapixels, above any camera photo a VQA set holds and far below a bomb's size.</summary>
    public const long DefaultMaxPixels = 64L << 20;

    /// <summary>Files larger than this are refused before reading (no image format needs 512 MB for 64 MP).</summary>
    const long MaxFileBytes = 512L << 20;

    public static RgbImage Decode(string path, long maxPixels = DefaultMaxPixels)
    {
        if (!File.Exists(path)) throw new EvoMergeException($"{path}: image not found");
        long length = new FileInfo(path).Length;
        if (length > MaxFileBytes) throw new EvoMergeException($"{path}: {length} bytes is too large for an image");
        using var data = SKData.Create(path)
            ?? throw new EvoMergeException($"{path}: cannot be read");
        using var codec = SKCodec.Create(data)
            ?? throw new EvoMergeException($"{path}: not a decodable image (expected JPEG, PNG or WebP)");
        if (codec.EncodedFormat is not (SKEncodedImageFormat.Jpeg or SKEncodedImageFormat.Png or SKEncodedImageFormat.Webp))
            throw new EvoMergeException($"{path}: {codec.EncodedFormat} images are not supported (expected JPEG, PNG or WebP)");
        int width = codec.Info.Width, height = codec.Info.Height;
        if (width <= 0 || height <= 0)
            throw new EvoMergeException($"{path}: image header declares {width}×{height} pixels");
        if ((long)width * height > maxPixels)
            throw new EvoMergeException($"{path}: image header declares {width}×{height} pixels, more than the limit of {maxPixels} (a decompression bomb?)");

        // Unpremultiplied RGBA without a colour space: Skia converts nothing but the pixel layout.
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[(long)width * height * 4];
        SKCodecResult result;
        unsafe
        {
            fixed (byte* p = rgba) result = codec.GetPixels(info, (IntPtr)p);
        }
        if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
            throw new EvoMergeException($"{path}: the image failed to decode ({result})");
        if (result == SKCodecResult.IncompleteInput)
            throw new EvoMergeException($"{path}: the image is truncated");

        var rgb = new byte[(long)width * height * 3];
        for (long i = 0, j = 0; i < rgba.Length; i += 4, j += 3)
        {
            rgb[j] = rgba[i];
            rgb[j + 1] = rgba[i + 1];
            rgb[j + 2] = rgba[i + 2];
        }
        return new RgbImage(width, height, rgb);
    }
}
