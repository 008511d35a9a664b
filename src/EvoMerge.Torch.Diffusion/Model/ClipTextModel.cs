using EvoMerge.Torch.Model;
using EvoMerge.Torch.Model.Clip;
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
    readonly ClipEncoder encoder;
    readonly LayerNorm final_layer_norm;

    public ClipTextTransformer(ClipTextConfig c, Device? device, ScalarType dtype) : base(nameof(ClipTextTransformer))
    {
        embeddings = new ClipTextEmbeddings(c, device, dtype);
        encoder = new ClipEncoder(new ClipEncoderShape(c.NumLayers, c.HiddenSize, c.NumHeads, c.IntermediateSize, c.LayerNormEps, Causal: true), device, dtype);
        final_layer_norm = Norms.Layer(c.HiddenSize, c.LayerNormEps, device, dtype);
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
