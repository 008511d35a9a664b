using EvoMerge.Torch.Model;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Vision.Model;

/// <summary>
/// LLaVA: a CLIP vision tower, a projector, and a Llama-family language model. Its parameter names are
/// transformers 4.x's (<c>vision_tower.…</c>, <c>multi_modal_projector.…</c>, <c>language_model.model.…</c>,
/// <c>language_model.lm_head.weight</c>); the loader maps 5.x names onto them. An image becomes
/// <see cref="LlavaConfig.TokensPerImage"/> feature vectors that replace, in order, the input positions holding
/// <see cref="LlavaConfig.ImageTokenIndex"/>; everything else is the language model's own forward.
/// </summary>
public sealed class LlavaForConditionalGeneration : nn.Module
{
    readonly ClipVisionTower vision_tower;
    readonly MultiModalProjector multi_modal_projector;
    readonly LlamaForCausalLM language_model;

    public LlavaForConditionalGeneration(LlavaConfig config, Device? device = null, ScalarType dtype = ScalarType.Float32)
        : base(nameof(LlavaForConditionalGeneration))
    {
        Config = config;
        vision_tower = new ClipVisionTower(config.Vision, device, dtype);
        multi_modal_projector = new MultiModalProjector(config, device, dtype);
        language_model = new LlamaForCausalLM(config.Text, device, dtype);
        RegisterComponents();
    }

    public LlavaConfig Config { get; }
    public LlamaForCausalLM LanguageModel => language_model;
    public ClipVisionTower VisionTower => vision_tower;
    public MultiModalProjector Projector => multi_modal_projector;

    /// <summary>Projected image features [images, tokens per image, text hidden] of pixel values [images, 3, size, size].</summary>
    public Tensor ImageFeatures(Tensor pixelValues)
    {
        using var scope = NewDisposeScope();
        var size = Config.Vision.ImageSize;
        if (pixelValues.dim() != 4 || pixelValues.shape[1] != Config.Vision.NumChannels || pixelValues.shape[2] != size || pixelValues.shape[3] != size)
            throw new EvoMergeException($"pixel values of shape [{string.Join(", ", pixelValues.shape)}] where the vision tower expects [images, {Config.Vision.NumChannels}, {size}, {size}]");
        var hidden = vision_tower.HiddenStates(pixelValues.to(language_model.Device), Config.VisionFeatureLayers);
        if (Config.VisionFeatureSelectStrategy == "default") hidden = hidden.narrow(1, 1, hidden.shape[1] - 1);
        return multi_modal_projector.Forward(hidden).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Input embeddings: token embeddings, with the rows of <paramref name="imageFeatures"/> (all images, in order)
    /// at the positions of the image token, scanned row by row.
    /// </summary>
    public Tensor Embed(Tensor inputIds, Tensor? imageFeatures)
    {
        using var scope = NewDisposeScope();
        var isImage = inputIds.eq(Config.ImageTokenIndex);
        long positions = isImage.sum().item<long>();
        long rows = imageFeatures is null ? 0 : imageFeatures.shape[0] * imageFeatures.shape[1];
        if (positions != rows)
            throw new EvoMergeException($"the prompt has {positions} image-token positions but the images give {rows} features ({Config.TokensPerImage} per image)");
        var embeddings = language_model.Embed(inputIds.masked_fill(isImage, 0));
        if (rows == 0) return embeddings.MoveToOuterDisposeScope();
        long hidden = embeddings.shape[2];
        var at = isImage.reshape(-1).nonzero().squeeze(1);
        var flat = embeddings.reshape(-1, hidden).index_copy(0, at, imageFeatures!.reshape(-1, hidden).to_type(embeddings.dtype));
        return flat.view(embeddings.shape).MoveToOuterDisposeScope();
    }

    /// <summary>Logits [batch, time, vocab] of a prompt whose image-token positions take <paramref name="imageFeatures"/>.</summary>
    public Tensor Forward(Tensor inputIds, Tensor? imageFeatures, KvCache? cache = null, Tensor? isToken = null, bool lastOnly = false)
    {
        using var scope = NewDisposeScope();
        return language_model.ForwardEmbeddings(Embed(inputIds, imageFeatures), cache, isToken, lastOnly).MoveToOuterDisposeScope();
    }
}
