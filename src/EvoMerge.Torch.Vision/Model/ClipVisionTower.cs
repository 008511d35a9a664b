using EvoMerge.Torch.Model;
using EvoMerge.Torch.Model.Clip;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Vision.Model;

/// <summary>
/// CLIP's vision transformer (ViT) as LLaVA uses it, with Hugging Face's parameter names under
/// <c>vision_model.</c>: patch embedding (a stride-p convolution without bias), a learned class embedding
/// prepended, learned position embeddings, a layer norm before the encoder (<c>pre_layrnorm</c>, transformers'
/// spelling), pre-norm encoder layers and a final <c>post_layernorm</c> that LLaVA loads but never uses (it
/// reads an intermediate hidden state).
/// </summary>
public sealed class ClipVisionTower : nn.Module
{
    readonly ClipVisionTransformer vision_model;

    public ClipVisionTower(ClipVisionConfig c, Device? device, ScalarType dtype) : base(nameof(ClipVisionTower))
    {
        vision_model = new ClipVisionTransformer(c, device, dtype);
        RegisterComponents();
    }

    /// <summary>
    /// The hidden states [images, 1 + patches, hidden] at <paramref name="layers"/> (0 = the normalised embeddings,
    /// k = the output of encoder layer k; negative counts from the end as in Python), concatenated on the last axis.
    /// Layers after the deepest one asked for are not run.
    /// </summary>
    public Tensor HiddenStates(Tensor pixelValues, IReadOnlyList<int> layers) => vision_model.HiddenStates(pixelValues, layers);
}

sealed class ClipVisionTransformer : nn.Module
{
    readonly ClipEmbeddings embeddings;
    readonly LayerNorm pre_layrnorm;
    readonly ClipEncoder encoder;
    readonly LayerNorm post_layernorm;

    public ClipVisionTransformer(ClipVisionConfig c, Device? device, ScalarType dtype) : base(nameof(ClipVisionTransformer))
    {
        embeddings = new ClipEmbeddings(c, device, dtype);
        pre_layrnorm = Norms.Layer(c.HiddenSize, c.LayerNormEps, device, dtype);
        encoder = new ClipEncoder(new ClipEncoderShape(c.NumLayers, c.HiddenSize, c.NumHeads, c.IntermediateSize, c.LayerNormEps, Causal: false, c.HiddenAct), device, dtype);
        post_layernorm = Norms.Layer(c.HiddenSize, c.LayerNormEps, device, dtype);
        RegisterComponents();
    }

    public Tensor HiddenStates(Tensor pixelValues, IReadOnlyList<int> layers)
    {
        using var scope = NewDisposeScope();
        int count = encoder.Layers.Count;
        var wanted = layers.Select(l => l < 0 ? count + 1 + l : l).ToArray();
        int deepest = wanted.Max();
        var states = new Tensor[count + 1];
        var hidden = pre_layrnorm.forward(embeddings.Forward(pixelValues));
        states[0] = hidden;
        for (int i = 0; i < deepest; i++) states[i + 1] = hidden = encoder.Layers[i].Forward(hidden);
        var picked = wanted.Select(w => states[w]).ToArray();
        return (picked.Length == 1 ? picked[0] : cat(picked, -1)).MoveToOuterDisposeScope();
    }
}

sealed class ClipEmbeddings : nn.Module
{
    readonly Parameter class_embedding;
    readonly Conv2d patch_embedding;
    readonly Embedding position_embedding;

    public ClipEmbeddings(ClipVisionConfig c, Device? device, ScalarType dtype) : base(nameof(ClipEmbeddings))
    {
        class_embedding = new Parameter(zeros(c.HiddenSize, dtype: dtype, device: device));
        patch_embedding = nn.Conv2d(c.NumChannels, c.HiddenSize, kernel_size: c.PatchSize, stride: c.PatchSize, bias: false,
            device: device, dtype: dtype);
        position_embedding = nn.Embedding(c.NumPatches + 1, c.HiddenSize, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <param name="pixelValues">[images, channels, size, size]</param>
    public Tensor Forward(Tensor pixelValues)
    {
        using var scope = NewDisposeScope();
        long n = pixelValues.shape[0];
        var patches = patch_embedding.forward(pixelValues.to_type(class_embedding.dtype)).flatten(2).transpose(1, 2);
        var cls = class_embedding.view(1, 1, -1).expand(n, 1, -1);
        return (cat([cls, patches], 1) + position_embedding.weight!.unsqueeze(0)).MoveToOuterDisposeScope();
    }
}
