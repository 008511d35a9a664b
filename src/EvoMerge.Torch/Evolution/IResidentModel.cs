using EvoMerge.Evaluation;
using EvoMerge.Merge;
using EvoMerge.Torch.Model;
using EvoMerge.Torch.Runtime;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Evolution;

/// <summary>
/// A model the evaluator holds in memory: merges are written into <see cref="Weights"/> and tasks are scored on
/// <see cref="LanguageModel"/>. The Torch runtime's own is a Llama-family LLM; other families (a LLaVA, in
/// EvoMerge.Torch.Vision) come through <see cref="TorchEvaluatorOptions.Residents"/>.
/// </summary>
public interface IResidentModel : IDisposable
{
    IMergeTarget Weights { get; }

    ILanguageModel LanguageModel(int batchSize);

    /// <summary>The Llama-family decoder whose layers a layer path may run (a VLM's: its language model).</summary>
    LlamaForCausalLM Decoder { get; }

    /// <summary>
    /// A layer path whose model A (head model 0 of <paramref name="path"/>: embeddings, final norm, head, tokenizer)
    /// is this model, as the language model tasks are scored on; a VLM adds its image features at the embedding stage.
    /// </summary>
    ILanguageModel PathLanguageModel(LayerPathModel path, int batchSize);
}

/// <summary>A loaded Llama-family LLM as a resident model.</summary>
public sealed class LlmResident(LoadedModel loaded) : IResidentModel
{
    public LoadedModel Loaded { get; } = loaded;

    public IMergeTarget Weights => Loaded.Weights;

    public ILanguageModel LanguageModel(int batchSize) => new TorchLanguageModel(Loaded.Model, Loaded.Tokenizer, batchSize);

    public LlamaForCausalLM Decoder => Loaded.Model;

    public ILanguageModel PathLanguageModel(LayerPathModel path, int batchSize) => new TorchLanguageModel(path, Loaded.Tokenizer, batchSize);

    public static LlmResident Load(string reference, ScalarType dtype) => new(LoadedModel.Load(reference, dtype: dtype));

    public void Dispose() => Loaded.Dispose();
}
