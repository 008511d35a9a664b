namespace EvoMerge.Torch.Vision.Images;

/// <summary>
/// Resizes an 8-bit RGB image with the arithmetic of PIL's <c>Image.resize</c> (libImaging/Resample.c), which is
/// what Hugging Face's CLIPImageProcessor calls: a separable convolution whose kernel widens by the downscale
/// factor (antialiasing), coefficients normalised per output pixel and rounded to 22-bit fixed point, the
/// horizontal pass first, each pass rounded and clipped to 8 bits. Matching that arithmetic, rather than
/// resampling in floating point, is what keeps pixel values equal to the Python pipeline's.
/// </summary>
public static class PilResampler
{
    const int PrecisionBits = 32 - 8 - 2;

    /// <summary>PIL's filter ids (<c>Image.Resampling</c>) that this supports.</summary>
    public enum Filter { Lanczos = 1, Bilinear = 2, Bicubic = 3 }

    public static RgbImage Resize(RgbImage image, int width, int height, Filter filter)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), "target size must be positive");
        if (width == image.Width && height == image.Height) return image;
        var current = image;
        if (width != image.Width) current = Horizontal(current, width, filter);
        if (height != image.Height) current = Vertical(current, height, filter);
        return current;
    }

    static RgbImage Horizontal(RgbImage input, int outWidth, Filter filter)
    {
        var (bounds, kernel, size) = Coefficients(input.Width, outWidth, filter);
        var output = new byte[(long)outWidth * input.Height * 3];
        Parallel.For(0, input.Height, y =>
        {
            long row = (long)y * input.Width * 3, outRow = (long)y * outWidth * 3;
            for (int x = 0; x < outWidth; x++)
            {
                int min = bounds[2 * x], count = bounds[2 * x + 1];
                for (int c = 0; c < 3; c++)
                {
                    int sum = 1 << (PrecisionBits - 1);
                    for (int k = 0; k < count; k++) sum += input.Pixels[row + (min + k) * 3 + c] * kernel[x * size + k];
                    output[outRow + x * 3 + c] = Clip8(sum);
                }
            }
        });
        return new RgbImage(outWidth, input.Height, output);
    }

    static RgbImage Vertical(RgbImage input, int outHeight, Filter filter)
    {
        var (bounds, kernel, size) = Coefficients(input.Height, outHeight, filter);
        int rowBytes = input.Width * 3;
        var output = new byte[(long)input.Width * outHeight * 3];
        Parallel.For(0, outHeight, y =>
        {
            int min = bounds[2 * y], count = bounds[2 * y + 1];
            for (int i = 0; i < rowBytes; i++)
            {
                int sum = 1 << (PrecisionBits - 1);
                for (int k = 0; k < count; k++) sum += input.Pixels[(long)(min + k) * rowBytes + i] * kernel[y * size + k];
                output[(long)y * rowBytes + i] = Clip8(sum);
            }
        });
        return new RgbImage(input.Width, outHeight, output);
    }

    static byte Clip8(int value) => value >= 255 << PrecisionBits ? (byte)255 : value <= 0 ? (byte)0 : (byte)(value >> PrecisionBits);

    /// <summary>Per output pixel: first input index and tap count (bounds), and fixed-point taps (kernel, <c>size</c> per pixel).</summary>
    static (int[] Bounds, int[] Kernel, int Size) Coefficients(int inSize, int outSize, Filter filter)
    {
        double support0 = filter switch { Filter.Bilinear => 1, Filter.Bicubic => 2, _ => 3 };
        double scale = (double)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = support0 * filterScale;
        int size = (int)Math.Ceiling(support) * 2 + 1;
        var bounds = new int[outSize * 2];
        var kernel = new int[outSize * size];
        var weights = new double[size];
        for (int x = 0; x < outSize; x++)
        {
            double center = (x + 0.5) * scale, total = 0, inverse = 1.0 / filterScale;
            int min = Math.Max(0, (int)(center - support + 0.5));
            int max = Math.Min(inSize, (int)(center + support + 0.5)) - min;
            for (int k = 0; k < max; k++) total += weights[k] = Kernel(filter, (k + min - center + 0.5) * inverse);
            for (int k = 0; k < max; k++)
            {
                double w = total != 0 ? weights[k] / total : weights[k];
                // C's (int) cast truncates toward zero, so ±0.5 rounds half away from zero.
                kernel[x * size + k] = (int)(w < 0 ? -0.5 + w * (1 << PrecisionBits) : 0.5 + w * (1 << PrecisionBits));
            }
            bounds[2 * x] = min;
            bounds[2 * x + 1] = max;
        }
        return (bounds, kernel, size);
    }

    static double Kernel(Filter filter, double x)
    {
        switch (filter)
        {
            case Filter.Bilinear:
                x = Math.Abs(x);
                return x < 1 ? 1 - x : 0;
            case Filter.Bicubic:
                const double a = -0.5;   // PIL's (and Keys') cubic convolution parameter
                x = Math.Abs(x);
                if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
                if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
                return 0;
            default:
                return x >= -3 && x < 3 ? Sinc(x) * Sinc(x / 3) : 0;
        }
    }

    static double Sinc(double x)
    {
        if (x == 0) return 1;
        x *= Math.PI;
        return Math.Sin(x) / x;
    }
}
