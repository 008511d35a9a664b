using EvoMerge.Torch.Model;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Vision.Model;

/// <summary>
/// A LLaVA with its images attached, as the plain causal LM that generation and scoring drive
/// (<see cref="ICausalLM"/>): the forward whose ids hold image tokens (the prefill) puts the image features
/// there; later steps see text tokens only. The features of a batch are in batch-row order. After the embedding
/// stage the hidden states run through <paramref name="decoder"/>: the LLaVA's own language model by default, or a
/// layer path (DFS) whose model A is this LLaVA's language model.
/// </summary>
public sealed class ImageConditionedModel(LlavaForConditionalGeneration model, Tensor? imageFeatures, IDecoderModel? decoder = null) : ICausalLM
{
    readonly IDecoderModel body = decoder ?? model.LanguageModel;

    public LlamaConfig Config => body.Config;
    public Device Device => body.Device;
    public ScalarType DType => body.DType;

    public Tensor Forward(Tensor inputIds, KvCache? cache = null, Tensor? isToken = null, bool lastOnly = false)
    {
        using var scope = NewDisposeScope();
        bool hasImageTokens = inputIds.eq(model.Config.ImageTokenIndex).any().item<bool>();
        var embeddings = model.Embed(inputIds, hasImageTokens ? imageFeatures : null);
        return body.ForwardEmbeddings(embeddings, cache, isToken, lastOnly).MoveToOuterDisposeScope();
    }

    public KvCache NewCache(long batch, int capacity) => body.NewCache(batch, capacity);
}
