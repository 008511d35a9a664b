using EvoMerge.Torch.Model;
using EvoMerge.Torch.Vision.Model;

namespace EvoMerge.Demo.Vision;

/// <summary>
/// Model V's shape: a tiny CLIP ViT (48×48 images, patch 8: 36 patches; width 64, 4 layers, 4 heads) and LLaVA's
/// two-layer GELU projector onto the demo base LM (width 128). Like LLaVA it reads the second-to-last hidden state
/// without the class token (36 image positions) and adds one vocabulary row for <c>&lt;image&gt;</c> that only V has,
/// as LLaVA-1.5/1.6 (32064 rows) do against Mistral's 32000.
/// </summary>
public static class VlmShape
{
    public const string ImageToken = "<image>";
    /// <summary>The folder under <c>demo/models</c> holding V (<c>vlm/v</c>) and its training log.</summary>
    public const string Folder = "vlm", VFolder = "v";

    public static LlavaConfig Config(LlamaConfig baseText) => new()
    {
        Text = baseText with { VocabSize = baseText.VocabSize + 1 },
        Vision = new ClipVisionConfig
        {
            HiddenSize = 64, IntermediateSize = 256, NumLayers = 4, NumHeads = 4, NumChannels = 3,
            ImageSize = SceneRenderer.Size, PatchSize = 8, LayerNormEps = 1e-5, HiddenAct = "quick_gelu",
        },
        ImageTokenIndex = baseText.VocabSize,
        VisionFeatureLayers = [-2],
        VisionFeatureSelectStrategy = "default",
        ProjectorHiddenAct = "gelu",
        ProjectorBias = true,
    };

    /// <summary>preprocessor_config.json: the pictures are already 48×48, so resizing is off; CLIP's mean and std.</summary>
    public const string PreprocessorJson = """
        {
          "image_processor_type": "CLIPImageProcessor",
          "do_resize": false,
          "size": {"shortest_edge": 48},
          "resample": 3,
          "do_center_crop": true,
          "crop_size": {"height": 48, "width": 48},
          "do_rescale": true,
          "rescale_factor": 0.00392156862745098,
          "do_normalize": true,
          "image_mean": [0.48145466, 0.4578275, 0.40821073],
          "image_std": [0.26862954, 0.26130258, 0.27577711],
          "do_convert_rgb": true
        }
        """;
}
