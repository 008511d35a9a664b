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
        pre_layrnorm = nn.LayerNorm(c.HiddenSize, c.LayerNormEps, device: device, dtype: dtype);
        encoder = new ClipEncoder(c, device, dtype);
        post_layernorm = nn.LayerNorm(c.HiddenSize, c.LayerNormEps, device: device, dtype: dtype);
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

sealed class ClipEncoder : nn.Module
{
    readonly ModuleList<ClipEncoderLayer> layers;

    public ClipEncoder(ClipVisionConfig c, Device? device, ScalarType dtype) : base(nameof(ClipEncoder))
    {
        layers = nn.ModuleList(Enumerable.Range(0, c.NumLayers).Select(_ => new ClipEncoderLayer(c, device, dtype)).ToArray());
        Layers = layers.ToArray();
        RegisterComponents();
    }

    public IReadOnlyList<ClipEncoderLayer> Layers { get; }
}

/// <summary>One pre-norm encoder layer: x + attn(ln1(x)), then + mlp(ln2(·)); full (non-causal) attention with biases.</summary>
sealed class ClipEncoderLayer : nn.Module
{
    readonly ClipAttention self_attn;
    readonly LayerNorm layer_norm1, layer_norm2;
    readonly ClipMlp mlp;

    public ClipEncoderLayer(ClipVisionConfig c, Device? device, ScalarType dtype) : base(nameof(ClipEncoderLayer))
    {
        self_attn = new ClipAttention(c, device, dtype);
        layer_norm1 = nn.LayerNorm(c.HiddenSize, c.LayerNormEps, device: device, dtype: dtype);
        mlp = new ClipMlp(c, device, dtype);
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

sealed class ClipAttention : nn.Module
{
    readonly Linear q_proj, k_proj, v_proj, out_proj;
    readonly int heads, headDim;

    public ClipAttention(ClipVisionConfig c, Device? device, ScalarType dtype) : base(nameof(ClipAttention))
    {
        heads = c.NumHeads;
        headDim = c.HiddenSize / c.NumHeads;
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
        Tensor Heads(Linear l) => l.forward(x).view(b, t, heads, headDim).transpose(1, 2);
        var y = nn.functional.scaled_dot_product_attention(Heads(q_proj), Heads(k_proj), Heads(v_proj));
        return out_proj.forward(y.transpose(1, 2).reshape(b, t, heads * headDim)).MoveToOuterDisposeScope();
    }
}

sealed class ClipMlp : nn.Module
{
    readonly Linear fc1, fc2;
    readonly string act;

    public ClipMlp(ClipVisionConfig c, Device? device, ScalarType dtype) : base(nameof(ClipMlp))
    {
        fc1 = nn.Linear(c.HiddenSize, c.IntermediateSize, device: device, dtype: dtype);
        fc2 = nn.Linear(c.IntermediateSize, c.HiddenSize, device: device, dtype: dtype);
        act = c.HiddenAct;
        RegisterComponents();
    }

    public Tensor Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return fc2.forward(Activations.Apply(act, fc1.forward(x))).MoveToOuterDisposeScope();
    }
}

/// <summary>The activations LLaVA configs name, by their transformers names.</summary>
static class Activations
{
    public static Tensor Apply(string name, Tensor x) => name switch
    {
        "quick_gelu" => x * sigmoid(x * 1.702),   // CLIP's original approximation, not erf GELU
        "gelu" => nn.functional.gelu(x),          // exact (erf)
        "relu" => nn.functional.relu(x),
        _ => throw new EvoMergeException($"activation '{name}' is not supported"),
    };
}
