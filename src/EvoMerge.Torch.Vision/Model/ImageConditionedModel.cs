using EvoMerge.Torch.Model;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Vision.Model;

/// <summary>
/// A LLaVA with its images attached, as the plain causal LM that generation and scoring drive
/// (<see cref="ICausalLM"/>): the forward whose ids hold image tokens (the prefill) puts the image features
/// there; later steps see text tokens only. The features of a batch are in batch-row order.
/// </summary>
public sealed class ImageConditionedModel(LlavaForConditionalGeneration model, Tensor? imageFeatures) : ICausalLM
{
    public LlamaConfig Config => model.Config.Text;
    public Device Device => model.LanguageModel.Device;
    public ScalarType DType => model.LanguageModel.DType;

    public Tensor Forward(Tensor inputIds, KvCache? cache = null, Tensor? isToken = null, bool lastOnly = false)
    {
        bool hasImageTokens = inputIds.eq(model.Config.ImageTokenIndex).any().item<bool>();
        return model.Forward(inputIds, hasImageTokens ? imageFeatures : null, cache, isToken, lastOnly);
    }

    public KvCache NewCache(long batch, int capacity) => model.LanguageModel.NewCache(batch, capacity);
}
