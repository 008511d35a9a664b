using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Model;

/// <summary>
/// A Llama-family decoder (Llama, Mistral, Qwen2) as a trainable TorchSharp module. Parameter names are exactly
/// Hugging Face's (<c>model.embed_tokens.weight</c>, <c>model.layers.N.self_attn.q_proj.weight</c>, ...,
/// <c>model.norm.weight</c>, <c>lm_head.weight</c>), so safetensors load by name. With tied embeddings there is
/// no <c>lm_head</c>: the head multiplies by the embedding matrix.
/// </summary>
public sealed class LlamaForCausalLM : nn.Module<Tensor, Tensor>, IDecoderModel
{
    readonly LlamaBackbone model;
    readonly Linear? lm_head;
    readonly RotaryEmbedding rope;

    public LlamaForCausalLM(LlamaConfig config, Device? device = null, ScalarType dtype = ScalarType.Float32)
        : base(nameof(LlamaForCausalLM))
    {
        Config = config.Validated();
        Device = device ?? CPU;
        DType = dtype;
        model = new LlamaBackbone(Config, Device, dtype);
        if (!Config.TieWordEmbeddings)
            lm_head = nn.Linear(Config.HiddenSize, Config.VocabSize, hasBias: false, device: Device, dtype: dtype);
        rope = new RotaryEmbedding(Config, Device);
        RegisterComponents();
    }

    public LlamaConfig Config { get; }
    public Device Device { get; }
    public ScalarType DType { get; }

    internal Embedding Embeddings => model.embed_tokens;
    internal IReadOnlyList<DecoderLayer> Layers => model.LayerArray;
    internal RmsNorm FinalNorm => model.norm;
    internal RotaryEmbedding Rope => rope;

    /// <summary>Full causal forward (training): logits [batch, time, vocab].</summary>
    public override Tensor forward(Tensor inputIds) => Forward(inputIds);

    public Tensor Forward(Tensor inputIds, KvCache? cache = null, Tensor? isToken = null, bool lastOnly = false)
    {
        using var scope = NewDisposeScope();
        return ForwardEmbeddings(Embed(inputIds), cache, isToken, lastOnly).MoveToOuterDisposeScope();
    }

    /// <summary>Token embeddings [batch, time, hidden] of ids [batch, time].</summary>
    public Tensor Embed(Tensor inputIds) => model.embed_tokens.forward(inputIds);

    /// <summary>
    /// <see cref="Forward"/> from input embeddings instead of ids: a multimodal model puts image features at some
    /// positions and token embeddings (<see cref="Embed"/>) at the others.
    /// </summary>
    public Tensor ForwardEmbeddings(Tensor embeddings, KvCache? cache = null, Tensor? isToken = null, bool lastOnly = false)
    {
        using var scope = NewDisposeScope();
        var hidden = DecoderStack.Run(embeddings, model.LayerArray, null, model.norm, rope, cache, isToken);
        if (lastOnly) hidden = hidden.narrow(1, hidden.shape[1] - 1, 1);
        return Head(hidden).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The residual stream entering each layer (Hugging Face's <c>hidden_states[0 … L−1]</c>: the embeddings, then
    /// each layer's output) for ids [batch, time]: [layers, batch, time, hidden]. Used for MoE router rows.
    /// </summary>
    public Tensor LayerInputs(Tensor inputIds)
    {
        using var scope = NewDisposeScope();
        var inputs = new List<Tensor>();
        try
        {
            DecoderStack.Run(Embed(inputIds), model.LayerArray, null, model.norm, rope, null, null, inputs);
            return stack(inputs).MoveToOuterDisposeScope();
        }
        finally
        {
            foreach (var t in inputs) t.Dispose();
        }
    }

    /// <summary>Logits from final hidden states (the tied embedding matrix when there is no lm_head).</summary>
    internal Tensor Head(Tensor hidden) =>
        Projection.Apply(lm_head?.weight ?? model.embed_tokens.weight!, null, hidden);

    public KvCache NewCache(long batch, int capacity) => new(Config.NumLayers, batch, capacity, Config, DType, Device);

    /// <summary>Hugging Face's initialisation for training from scratch: N(0, std) weights, zero biases, unit norms.</summary>
    public void InitializeWeights(double std = 0.02)
    {
        using var noGrad = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith("norm.weight")) p.fill_(1);
            else if (name.EndsWith(".bias")) p.zero_();
            else p.normal_(0, std);
        }
    }
}

/// <summary>The <c>model.</c> part of the names: embeddings, blocks, final norm.</summary>
sealed class LlamaBackbone : nn.Module
{
    internal readonly Embedding embed_tokens;
    internal readonly ModuleList<DecoderLayer> layers;
    internal readonly RmsNorm norm;

    public LlamaBackbone(LlamaConfig c, Device device, ScalarType dtype) : base(nameof(LlamaBackbone))
    {
        embed_tokens = nn.Embedding(c.VocabSize, c.HiddenSize, device: device, dtype: dtype);
        layers = nn.ModuleList(Enumerable.Range(0, c.NumLayers).Select(_ => new DecoderLayer(c, device, dtype)).ToArray());
        norm = new RmsNorm(c.HiddenSize, c.RmsNormEps, device, dtype);
        LayerArray = layers.ToArray();
        RegisterComponents();
    }

    internal DecoderLayer[] LayerArray { get; }
}
