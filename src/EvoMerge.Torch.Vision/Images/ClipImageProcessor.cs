using System.Text.Json;
using System.Text.Json.Nodes;

namespace EvoMerge.Torch.Vision.Images;

/// <summary>
/// Hugging Face's CLIPImageProcessor as <c>preprocessor_config.json</c> configures it: RGB, resize so that the
/// shortest edge is <c>size.shortest_edge</c> (or to <c>size.height</c>×<c>size.width</c>) with PIL's filter
/// (<see cref="PilResampler"/>), centre crop to <c>crop_size</c> (zero-padding a smaller image), multiply by
/// <c>rescale_factor</c>, then (x − mean) / std per channel in float32. The output is channels-first.
/// This is the Python ("slow") processor's arithmetic; transformers' torchvision-based fast processor
/// resamples differently and is not reproduced.
/// </summary>
public sealed record ClipImageProcessor
{
    public bool DoResize { get; init; } = true;
    /// <summary>Target of the shortest edge, or null when <see cref="ResizeHeight"/>/<see cref="ResizeWidth"/> are set.</summary>
    public int? ShortestEdge { get; init; } = 224;
    public int? ResizeHeight { get; init; }
    public int? ResizeWidth { get; init; }
    public PilResampler.Filter Resample { get; init; } = PilResampler.Filter.Bicubic;
    public bool DoCenterCrop { get; init; } = true;
    public int CropHeight { get; init; } = 224;
    public int CropWidth { get; init; } = 224;
    public bool DoRescale { get; init; } = true;
    public double RescaleFactor { get; init; } = 1 / 255.0;
    public bool DoNormalize { get; init; } = true;
    public float[] Mean { get; init; } = [0.48145466f, 0.4578275f, 0.40821073f];   // OpenAI CLIP's
    public float[] Std { get; init; } = [0.26862954f, 0.26130258f, 0.27577711f];

    /// <summary>Reads preprocessor_config.json; a missing file gives CLIP's defaults at <paramref name="imageSize"/>.</summary>
    public static ClipImageProcessor FromFolder(string folder, int imageSize)
    {
        string path = Path.Combine(folder, "preprocessor_config.json");
        if (!File.Exists(path))
            return new ClipImageProcessor { ShortestEdge = imageSize, CropHeight = imageSize, CropWidth = imageSize };
        JsonNode? node;
        try { node = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new EvoMergeException($"{path}: not valid JSON ({e.Message})"); }
        if (node is not JsonObject o) throw new EvoMergeException($"{path}: expected a JSON object");
        return FromJson(o, path);
    }

    public static ClipImageProcessor FromJson(JsonObject o, string source)
    {
        string? type = o["image_processor_type"] is JsonValue tv && tv.TryGetValue(out string? t) ? t : null;
        if (type is not (null or "CLIPImageProcessor" or "CLIPImageProcessorFast"))
            throw new EvoMergeException($"{source}: field 'image_processor_type' is '{type}'; supported: CLIPImageProcessor");
        var d = new ClipImageProcessor();
        int? shortest = d.ShortestEdge, height = null, width = null;
        switch (o["size"])
        {
            case null: break;
            case JsonValue v when v.TryGetValue(out int s): shortest = s; break;
            case JsonObject s when s["shortest_edge"] is not null: shortest = Positive(s["shortest_edge"], "size.shortest_edge", source); break;
            case JsonObject s when s["height"] is not null && s["width"] is not null:
                shortest = null;
                height = Positive(s["height"], "size.height", source);
                width = Positive(s["width"], "size.width", source);
                break;
            default: throw new EvoMergeException($"{source}: field 'size' must be an integer, {{shortest_edge}} or {{height, width}}");
        }
        int cropH = d.CropHeight, cropW = d.CropWidth;
        switch (o["crop_size"])
        {
            case null: break;
            case JsonValue v when v.TryGetValue(out int s): cropH = cropW = s; break;
            case JsonObject s:
                cropH = Positive(s["height"], "crop_size.height", source);
                cropW = Positive(s["width"], "crop_size.width", source);
                break;
            default: throw new EvoMergeException($"{source}: field 'crop_size' must be an integer or {{height, width}}");
        }
        int resample = o["resample"] is JsonValue rv && rv.TryGetValue(out int r) ? r : 3;
        if (!Enum.IsDefined((PilResampler.Filter)resample))
            throw new EvoMergeException($"{source}: field 'resample' is {resample}; supported: 1 (lanczos), 2 (bilinear), 3 (bicubic)");
        return new ClipImageProcessor
        {
            DoResize = Bool(o, "do_resize", true, source),
            ShortestEdge = shortest, ResizeHeight = height, ResizeWidth = width,
            Resample = (PilResampler.Filter)resample,
            DoCenterCrop = Bool(o, "do_center_crop", true, source),
            CropHeight = cropH, CropWidth = cropW,
            DoRescale = Bool(o, "do_rescale", true, source),
            RescaleFactor = o["rescale_factor"] is JsonValue f && f.TryGetValue(out double rf) ? rf : d.RescaleFactor,
            DoNormalize = Bool(o, "do_normalize", true, source),
            Mean = Triple(o, "image_mean", d.Mean, source),
            Std = Triple(o, "image_std", d.Std, source),
        };
    }

    /// <summary>Output height and width (the crop when cropping).</summary>
    public (int Height, int Width) OutputSize(RgbImage image)
    {
        if (DoCenterCrop) return (CropHeight, CropWidth);
        return DoResize ? ResizedSize(image) : (image.Height, image.Width);
    }

    /// <summary>Pixel values [3, height, width] in channel-first order, float32.</summary>
    public float[] Process(RgbImage image)
    {
        if (DoResize)
        {
            var (h, w) = ResizedSize(image);
            image = PilResampler.Resize(image, w, h, Resample);
        }
        int outH = image.Height, outW = image.Width, top = 0, left = 0;
        if (DoCenterCrop)
        {
            // transformers' center_crop: floor((size - crop) / 2) from the top left, zero padding where the crop is larger.
            outH = CropHeight;
            outW = CropWidth;
            top = FloorDiv(image.Height - CropHeight, 2);
            left = FloorDiv(image.Width - CropWidth, 2);
        }
        var values = new float[3 * outH * outW];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < outH; y++)
                for (int x = 0; x < outW; x++)
                {
                    int sy = y + top, sx = x + left;
                    float v = sy >= 0 && sy < image.Height && sx >= 0 && sx < image.Width ? image[sx, sy, c] : 0;
                    if (DoRescale) v = (float)(v * RescaleFactor);          // numpy: float64 product, stored as float32
                    if (DoNormalize) v = (v - Mean[c]) / Std[c];           // float32 arithmetic
                    values[(c * outH + y) * outW + x] = v;
                }
        return values;
    }

    (int Height, int Width) ResizedSize(RgbImage image)
    {
        if (ShortestEdge is not int edge) return (ResizeHeight!.Value, ResizeWidth!.Value);
        // transformers' get_resize_output_image_size: the long side is int(edge * long / short), truncated.
        bool portrait = image.Width <= image.Height;
        int shortSide = portrait ? image.Width : image.Height, longSide = portrait ? image.Height : image.Width;
        int newLong = (int)((double)edge * longSide / shortSide);
        return portrait ? (newLong, edge) : (edge, newLong);
    }

    static int FloorDiv(int a, int b) => (int)Math.Floor((double)a / b);

    static int Positive(JsonNode? n, string field, string source) =>
        n is JsonValue v && v.TryGetValue(out int i) && i > 0 ? i : throw new EvoMergeException($"{source}: field '{field}' must be a positive integer");

    static bool Bool(JsonObject o, string name, bool fallback, string source) => o[name] switch
    {
        null => fallback,
        JsonValue v when v.TryGetValue(out bool b) => b,
        _ => throw new EvoMergeException($"{source}: field '{name}' must be true or false"),
    };

    static float[] Triple(JsonObject o, string name, float[] fallback, string source) => o[name] switch
    {
        null => fallback,
        JsonArray { Count: 3 } a when a.All(x => x is JsonValue v && v.TryGetValue(out double _)) => a.Select(x => (float)x!.GetValue<double>()).ToArray(),
        _ => throw new EvoMergeException($"{source}: field '{name}' must be a list of 3 numbers"),
    };
}
