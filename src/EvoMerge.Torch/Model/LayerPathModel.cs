using EvoMerge.Candidates;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Model;

/// <summary>
/// Data-flow-space merging: a forward that runs a sequence of (model, layer) steps over layers of several loaded
/// models, with embeddings, final norm and head from one of them. Layers are the models' own modules, so each
/// distinct layer is held once however often the path repeats it; <see cref="SetPath"/> swaps the path and
/// scales between candidates without touching any weights. The KV cache has one slot per step.
/// </summary>
public sealed class LayerPathModel : IDecoderModel
{
    readonly IReadOnlyList<LlamaForCausalLM> models;
    readonly LlamaForCausalLM head;
    DecoderLayer[] layers = [];
    float[] scales = [];

    /// <param name="models">The source models; their attention shapes, RoPE, dtype and device must agree.</param>
    /// <param name="headModel">Index of the model that gives tokenizer, embeddings, final norm and head.</param>
    public LayerPathModel(IReadOnlyList<LlamaForCausalLM> models, int headModel, IReadOnlyList<PathStep> path)
    {
        if (models.Count == 0) throw new EvoMergeException("layer path: no models");
        if (headModel < 0 || headModel >= models.Count) throw new EvoMergeException($"layer path: head model {headModel} is not one of the {models.Count} models");
        head = models[headModel];
        foreach (var m in models)
        {
            var (a, b) = (m.Config, head.Config);
            if (a.HiddenSize != b.HiddenSize || a.NumHeads != b.NumHeads || a.NumKvHeads != b.NumKvHeads || a.HeadDim != b.HeadDim
                || a.RopeTheta != b.RopeTheta || a.RopeScaling != b.RopeScaling)
                throw new EvoMergeException("layer path: models differ in hidden size, heads, kv heads, head dim or RoPE; their layers cannot share one stream");
            if (m.DType != head.DType || m.Device.ToString() != head.Device.ToString())
                throw new EvoMergeException("layer path: models must be loaded with the same dtype and device");
        }
        this.models = models;
        SetPath(path);
    }

    /// <summary>The identity path over one model: its layers in order, scale 1.</summary>
    public static IReadOnlyList<PathStep> Identity(int model, int layerCount) =>
        Enumerable.Range(0, layerCount).Select(l => new PathStep(model, l)).ToArray();

    public IReadOnlyList<PathStep> Path { get; private set; } = [];

    /// <summary>Replaces the path (and its scales); cheap, nothing is loaded or copied.</summary>
    public void SetPath(IReadOnlyList<PathStep> path)
    {
        if (path.Count == 0) throw new EvoMergeException("layer path: the path has no steps");
        for (int i = 0; i < path.Count; i++)
        {
            var s = path[i];
            if (s.Model < 0 || s.Model >= models.Count)
                throw new EvoMergeException($"layer path step {i}: model {s.Model} is not one of the {models.Count} models");
            if (s.Layer < 0 || s.Layer >= models[s.Model].Config.NumLayers)
                throw new EvoMergeException($"layer path step {i}: model {s.Model} has layers 0..{models[s.Model].Config.NumLayers - 1}, not {s.Layer}");
            if (!double.IsFinite(s.Scale)) throw new EvoMergeException($"layer path step {i}: scale must be finite");
        }
        Path = path.ToArray();
        layers = path.Select(s => models[s.Model].Layers[s.Layer]).ToArray();
        scales = path.Select(s => (float)s.Scale).ToArray();
    }

    public LlamaConfig Config => head.Config with { NumLayers = Path.Count };
    public Device Device => head.Device;
    public ScalarType DType => head.DType;

    public Tensor Forward(Tensor inputIds, KvCache? cache = null, Tensor? isToken = null, bool lastOnly = false)
    {
        using var scope = NewDisposeScope();
        return ForwardEmbeddings(Embed(inputIds), cache, isToken, lastOnly).MoveToOuterDisposeScope();
    }

    /// <summary>The head model's token embeddings.</summary>
    public Tensor Embed(Tensor inputIds) => head.Embed(inputIds);

    /// <summary>
    /// The path from input embeddings (a VLM as the head model puts its image features among them); step 0's scale
    /// multiplies all of them, image positions included.
    /// </summary>
    public Tensor ForwardEmbeddings(Tensor embeddings, KvCache? cache = null, Tensor? isToken = null, bool lastOnly = false)
    {
        using var scope = NewDisposeScope();
        var hidden = DecoderStack.Run(embeddings, layers, scales, head.FinalNorm, head.Rope, cache, isToken);
        if (lastOnly) hidden = hidden.narrow(1, hidden.shape[1] - 1, 1);
        return head.Head(hidden).MoveToOuterDisposeScope();
    }

    public KvCache NewCache(long batch, int capacity) => new(Path.Count, batch, capacity, head.Config, DType, Device);
}
