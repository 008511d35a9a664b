using static TorchSharp.torch;

namespace EvoMerge.Torch.Model;

/// <summary>
/// A causal LM whose forward can start after its embedding stage: a multimodal model (LLaVA) embeds the tokens,
/// puts image features at the image positions, and runs the rest — its own language model, or a layer path
/// (<see cref="LayerPathModel"/>) whose model A it is.
/// </summary>
public interface IDecoderModel : ICausalLM
{
    /// <summary>Token embeddings [batch, time, hidden] of ids [batch, time].</summary>
    Tensor Embed(Tensor inputIds);

    /// <summary><see cref="ICausalLM.Forward"/> from input embeddings [batch, time, hidden] instead of ids.</summary>
    Tensor ForwardEmbeddings(Tensor embeddings, KvCache? cache = null, Tensor? isToken = null, bool lastOnly = false);
}
