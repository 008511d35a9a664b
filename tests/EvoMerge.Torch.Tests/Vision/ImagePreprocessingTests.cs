using Xunit.Abstractions;
using System.Runtime.InteropServices;
using EvoMerge.TestSupport;
using EvoMerge.Torch.Vision.Images;

namespace EvoMerge.Torch.Tests.Vision;

/// <summary>
/// Decoding (SkiaSharp) and CLIP preprocessing against <c>clip_preprocess_reference.py</c> (PIL + numpy, as
/// transformers' CLIPImageProcessor runs them), on the real images of ../shared/data/images and on PNG, JPEG
/// and WebP files PIL generates: RGB, RGBA, greyscale, palette (with and without transparency), 4:2:0 JPEG.
/// Lossless formats must match exactly; JPEG decoders may differ by rounding in the inverse DCT and chroma
/// upsampling, so a JPEG's decoded bytes may differ by at most 2 levels, and its pixel values by 3/255/std (bicubic taps sum to more than 1 in absolute value).
/// </summary>
public class ImagePreprocessingTests(ITestOutputHelper output)
{
    [PythonReferenceFact("PIL")]
    public void GeneratedImagesMatchPil()
    {
        string dir = Directory.CreateTempSubdirectory("images-").FullName;
        try
        {
            var (code, _, err) = PythonReference.Run($"\"{Script}\" make-samples \"{dir}\"", TimeSpan.FromMinutes(1));
            Assert.True(code == 0, err);
            var files = Directory.GetFiles(dir).Order().ToArray();
            Assert.True(files.Length >= 10, $"{files.Length} samples");
            // Downscale with a crop, upscale, and a crop larger than the resized image (zero padding).
            foreach (var (shortest, crop) in new[] { (24, 20), (16, 20), (120, 100) })
                foreach (var file in files) Compare(file, shortest, crop);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [PythonReferenceFact("PIL")]
    public void SharedDataImagesMatchPil()
    {
        string dir = Path.Combine(SharedData.DataRoot, "images");
        if (!Directory.Exists(dir))
        {
            output.WriteLine($"skipped: {dir} is absent (the shared data folder holds the real images)");
            return;
        }
        var files = Directory.GetFiles(dir).Where(f => f.EndsWith(".png") || f.EndsWith(".jpg")).Order().ToArray();
        Assert.NotEmpty(files);
        foreach (var file in files) Compare(file, 336, 336);   // LLaVA-1.5's CLIP-L/14 at 336²
    }

    static string Script => Path.Combine(AppContext.BaseDirectory, "Reference", "clip_preprocess_reference.py");

    void Compare(string file, int shortest, int crop)
    {
        string rgbPath = Path.GetTempFileName(), valuesPath = Path.GetTempFileName();
        try
        {
            var (code, _, err) = PythonReference.Run($"\"{Script}\" \"{file}\" {shortest} {crop} \"{rgbPath}\" \"{valuesPath}\"", TimeSpan.FromMinutes(1));
            Assert.True(code == 0, $"{file}: {err}");
            var expectedRgb = File.ReadAllBytes(rgbPath);
            var expected = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(valuesPath)).ToArray();

            var image = ImageDecoder.Decode(file);
            var processor = new ClipImageProcessor { ShortestEdge = shortest, CropHeight = crop, CropWidth = crop };
            var actual = processor.Process(image);

            bool lossy = file.EndsWith(".jpg");
            Assert.Equal(expectedRgb.Length, image.Pixels.Length);
            int decodeDiff = expectedRgb.Zip(image.Pixels, (e, a) => Math.Abs(e - a)).Max();
            Assert.Equal(expected.Length, actual.Length);
            double valueDiff = expected.Zip(actual, (e, a) => Math.Abs((double)e - a)).Max();
            output.WriteLine($"{Path.GetFileName(file)} {image.Width}x{image.Height} -> {crop}²: decoded max |Δ| {decodeDiff}, values max |Δ| {valueDiff:E2}");
            Assert.True(decodeDiff <= (lossy ? 2 : 0), $"{file}: decoded bytes differ by up to {decodeDiff}");
            Assert.True(valueDiff <= (lossy ? 3.0 / 255 / 0.26 : 1e-6), $"{file} at {shortest}/{crop}: pixel values differ by up to {valueDiff}");
        }
        finally
        {
            File.Delete(rgbPath);
            File.Delete(valuesPath);
        }
    }
}
