using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Diffusion.Model;

/// <summary>
/// CLIP's text transformer with transformers' <c>CLIPTextModel</c> names under <c>text_model.</c>: token and learned
/// position embeddings, pre-norm layers with causal self-attention (with biases) and a quick-GELU MLP, and a final
/// layer norm whose output (<c>last_hidden_state</c>) conditions the UNet, as in Stable Diffusion 1.x.
/// </summary>
public sealed class ClipTextModel : nn.Module
{
    readonly ClipTextTransformer text_model;

    public ClipTextConfig Config { get; }

    public ClipTextModel(ClipTextConfig c, Device? device = null, ScalarType dtype = ScalarType.Float32) : base(nameof(ClipTextModel))
    {
        Config = c;
        text_model = new ClipTextTransformer(c, device, dtype);
        RegisterComponents();
    }

    /// <param name="ids">[batch, tokens] with tokens ≤ max_position_embeddings</param>
    /// <returns>[batch, tokens, hidden]</returns>
    public Tensor Forward(Tensor ids) => text_model.Forward(ids);
}

sealed class ClipTextTransformer : nn.Module
{
    readonly ClipTextEmbeddings embeddings;
    readonly ClipTextEncoder encoder;
    readonly LayerNorm final_layer_norm;

    public ClipTextTransformer(ClipTextConfig c, Device? device, ScalarType dtype) : base(nameof(ClipTextTransformer))
    {
        embeddings = new ClipTextEmbeddings(c, device, dtype);
        encoder = new ClipTextEncoder(c, device, dtype);
        final_layer_norm = nn.LayerNorm(c.HiddenSize, c.LayerNormEps, device: device, dtype: dtype);
        RegisterComponents();
    }

    public Tensor Forward(Tensor ids)
    {
        using var scope = NewDisposeScope();
        var h = embeddings.Forward(ids);
        foreach (var layer in encoder.Layers) h = layer.Forward(h);
        return final_layer_norm.forward(h).MoveToOuterDisposeScope();
    }
}

sealed class ClipTextEmbeddings : nn.Module
{
    readonly Embedding token_embedding, position_embedding;
    readonly int maxPositions;

    public ClipTextEmbeddings(ClipTextConfig c, Device? device, ScalarType dtype) : base(nameof(ClipTextEmbeddings))
    {
        token_embedding = nn.Embedding(c.VocabSize, c.HiddenSize, device: device, dtype: dtype);
        position_embedding = nn.Embedding(c.MaxPositionEmbeddings, c.HiddenSize, device: device, dtype: dtype);
        maxPositions = c.MaxPositionEmbeddings;
        RegisterComponents();
    }

    public Tensor Forward(Tensor ids)
    {
        long t = ids.shape[1];
        if (t > maxPositions) throw new EvoMergeException($"a prompt of {t} tokens is longer than the text encoder's {maxPositions} positions");
        using var scope = NewDisposeScope();
        return (token_embedding.forward(ids) + position_embedding.weight![..(int)t].unsqueeze(0)).MoveToOuterDisposeScope();
    }
}

sealed class ClipTextEncoder : nn.Module
{
    readonly ModuleList<ClipTextLayer> layers;

    public ClipTextEncoder(ClipTextConfig c, Device? device, ScalarType dtype) : base(nameof(ClipTextEncoder))
    {
        layers = nn.ModuleList(Enumerable.Range(0, c.NumLayers).Select(_ => new ClipTextLayer(c, device, dtype)).ToArray());
        Layers = layers.ToArray();
        RegisterComponents();
    }

    public IReadOnlyList<ClipTextLayer> Layers { get; }
}

sealed class ClipTextLayer : nn.Module
{
    readonly ClipTextAttention self_attn;
    readonly LayerNorm layer_norm1, layer_norm2;
    readonly ClipTextMlp mlp;

    public ClipTextLayer(ClipTextConfig c, Device? device, ScalarType dtype) : base(nameof(ClipTextLayer))
    {
        self_attn = new ClipTextAttention(c, device, dtype);
        layer_norm1 = nn.LayerNorm(c.HiddenSize, c.LayerNormEps, device: device, dtype: dtype);
        mlp = new ClipTextMlp(c, device, dtype);
        layer_norm2 = nn.LayerNorm(c.HiddenSize, c.LayerNormEps, device: device, dtype: dtype);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = x + self_attn.Forward(layer_norm1.forward(x));
        return (h + mlp.Forward(layer_norm2.forward(h))).MoveToOuterDisposeScope();
    }
}

sealed class ClipTextAttention : nn.Module
{
    readonly Linear q_proj, k_proj, v_proj, out_proj;
    readonly int heads;

    public ClipTextAttention(ClipTextConfig c, Device? device, ScalarType dtype) : base(nameof(ClipTextAttention))
    {
        heads = c.NumHeads;
        q_proj = nn.Linear(c.HiddenSize, c.HiddenSize, device: device, dtype: dtype);
        k_proj = nn.Linear(c.HiddenSize, c.HiddenSize, device: device, dtype: dtype);
        v_proj = nn.Linear(c.HiddenSize, c.HiddenSize, device: device, dtype: dtype);
        out_proj = nn.Linear(c.HiddenSize, c.HiddenSize, device: device, dtype: dtype);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], t = x.shape[1];
        Tensor Heads(Linear l) => l.forward(x).view(b, t, heads, -1).transpose(1, 2);
        // CLIP's text model is causal: each token sees itself and the tokens before it.
        var y = nn.functional.scaled_dot_product_attention(Heads(q_proj), Heads(k_proj), Heads(v_proj), is_casual: true);
        return out_proj.forward(y.transpose(1, 2).reshape(b, t, -1)).MoveToOuterDisposeScope();
    }
}

sealed class ClipTextMlp : nn.Module
{
    readonly Linear fc1, fc2;

    public ClipTextMlp(ClipTextConfig c, Device? device, ScalarType dtype) : base(nameof(ClipTextMlp))
    {
        fc1 = nn.Linear(c.HiddenSize, c.IntermediateSize, device: device, dtype: dtype);
        fc2 = nn.Linear(c.IntermediateSize, c.HiddenSize, device: device, dtype: dtype);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = fc1.forward(x);
        return fc2.forward(h * sigmoid(h * 1.702)).MoveToOuterDisposeScope(); // quick-GELU, CLIP's activation
    }
}
