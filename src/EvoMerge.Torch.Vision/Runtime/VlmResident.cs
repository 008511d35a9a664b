using EvoMerge.Anatomy;
using EvoMerge.Evaluation;
using EvoMerge.IO;
using EvoMerge.Merge;
using EvoMerge.Torch.Evolution;
using EvoMerge.Torch.Model;
using EvoMerge.Torch.Weights;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Vision.Runtime;

/// <summary>
/// A LLaVA held by the evolution evaluator: a merge laid out as the VLM (either transformers layout) is written into
/// its weights under the runtime's names, and tasks (<c>vqa</c> among them) see it as an <see cref="IVisionLanguageModel"/>.
/// In a layer path (DFS) its language model's layers are sources, and as model A it also gives the image features.
/// </summary>
public sealed class VlmResident : IResidentModel
{
    readonly LoadedVlm _vlm;
    readonly ResidentWeights _weights;

    VlmResident(LoadedVlm vlm)
    {
        _vlm = vlm;
        _weights = new ResidentWeights(vlm.Model, vlm.Model.Config.Text.TieWordEmbeddings);
        Weights = new RuntimeNames(_weights);
    }

    public IMergeTarget Weights { get; }

    public ILanguageModel LanguageModel(int batchSize) => new TorchVisionLanguageModel(_vlm, batchSize);

    public LlamaForCausalLM Decoder => _vlm.Model.LanguageModel;

    /// <summary>The VLM as model A of a layer path: its embeddings and image features enter the path's first step.</summary>
    public ILanguageModel PathLanguageModel(LayerPathModel path, int batchSize) => new TorchVisionLanguageModel(_vlm, batchSize, path);

    /// <summary>The resident of a llava folder, or null for any other model (the evaluator then loads an LLM).</summary>
    public static IResidentModel? TryLoad(string reference, ScalarType dtype)
    {
        string path = ModelReference.Resolve(reference);
        string config = Path.Combine(Directory.Exists(path) ? path : Path.GetDirectoryName(path)!, ModelFolder.ConfigFileName);
        if (!File.Exists(config) || ModelConfig.Load(config).Architecture != ModelAnatomy.LlavaArchitecture) return null;
        return new VlmResident(LoadedVlm.Load(reference, dtype: dtype));
    }

    public void Dispose() => _vlm.Dispose();

    /// <summary>Merged tensors arrive under the VLM's file names (4.x or 5.x); the model has 4.x names.</summary>
    sealed class RuntimeNames(ResidentWeights inner) : IMergeTarget
    {
        static readonly ModelAnatomy Llava = ModelAnatomy.For(ModelAnatomy.LlavaArchitecture);

        public void Accept(string name, ReadOnlySpan<long> shape, ReadOnlySpan<float> values) =>
            inner.Accept(LoadedVlm.RuntimeName(Llava, name), shape, values);
    }
}
