using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Model.Clip;

/// <summary>The shape of a CLIP encoder, the same for CLIP's vision tower (LLaVA) and its text model (SD/SDXL).</summary>
/// <param name="Causal">The text model attends to earlier tokens only; the vision tower attends to every patch.</param>
/// <param name="Activation">transformers' <c>hidden_act</c> name (see <see cref="Activations"/>).</param>
public sealed record ClipEncoderShape(int Layers, int Hidden, int Heads, int Intermediate, double LayerNormEps, bool Causal,
    string Activation = "quick_gelu");

/// <summary>
/// CLIP's encoder (<c>encoder.layers.N.…</c>): pre-norm layers, x + attn(ln1(x)), then + mlp(ln2(·)), attention and
/// MLP with biases. One implementation for both wings, so the tensor names and the arithmetic cannot drift apart.
/// </summary>
public sealed class ClipEncoder : nn.Module
{
    readonly ModuleList<ClipEncoderLayer> layers;

    public ClipEncoder(ClipEncoderShape shape, Device? device, ScalarType dtype) : base(nameof(ClipEncoder))
    {
        layers = nn.ModuleList(Enumerable.Range(0, shape.Layers).Select(_ => new ClipEncoderLayer(shape, device, dtype)).ToArray());
        Layers = layers.ToArray();
        RegisterComponents();
    }

    public IReadOnlyList<ClipEncoderLayer> Layers { get; }
}

public sealed class ClipEncoderLayer : nn.Module
{
    readonly ClipAttention self_attn;
    readonly LayerNorm layer_norm1, layer_norm2;
    readonly ClipMlp mlp;

    public ClipEncoderLayer(ClipEncoderShape shape, Device? device, ScalarType dtype) : base(nameof(ClipEncoderLayer))
    {
        self_attn = new ClipAttention(shape, device, dtype);
        layer_norm1 = Norms.Layer(shape.Hidden, shape.LayerNormEps, device, dtype);
        mlp = new ClipMlp(shape, device, dtype);
        layer_norm2 = Norms.Layer(shape.Hidden, shape.LayerNormEps, device, dtype);
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
    readonly bool causal;

    public ClipAttention(ClipEncoderShape shape, Device? device, ScalarType dtype) : base(nameof(ClipAttention))
    {
        heads = shape.Heads;
        headDim = shape.Hidden / shape.Heads;
        causal = shape.Causal;
        q_proj = nn.Linear(shape.Hidden, shape.Hidden, device: device, dtype: dtype);
        k_proj = nn.Linear(shape.Hidden, shape.Hidden, device: device, dtype: dtype);
        v_proj = nn.Linear(shape.Hidden, shape.Hidden, device: device, dtype: dtype);
        out_proj = nn.Linear(shape.Hidden, shape.Hidden, device: device, dtype: dtype);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], t = x.shape[1];
        Tensor Heads(Linear l) => l.forward(x).view(b, t, heads, headDim).transpose(1, 2);
        var y = nn.functional.scaled_dot_product_attention(Heads(q_proj), Heads(k_proj), Heads(v_proj), is_casual: causal);
        return out_proj.forward(y.transpose(1, 2).reshape(b, t, heads * headDim)).MoveToOuterDisposeScope();
    }
}

sealed class ClipMlp : nn.Module
{
    readonly Linear fc1, fc2;
    readonly string act;

    public ClipMlp(ClipEncoderShape shape, Device? device, ScalarType dtype) : base(nameof(ClipMlp))
    {
        fc1 = nn.Linear(shape.Hidden, shape.Intermediate, device: device, dtype: dtype);
        fc2 = nn.Linear(shape.Intermediate, shape.Hidden, device: device, dtype: dtype);
        act = shape.Activation;
        RegisterComponents();
    }

    public Tensor Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return fc2.forward(Activations.Apply(act, fc1.forward(x))).MoveToOuterDisposeScope();
    }
}

/// <summary>The activations CLIP and LLaVA configs name, by their transformers names.</summary>
public static class Activations
{
    public static Tensor Apply(string name, Tensor x) => name switch
    {
        "quick_gelu" => x * sigmoid(x * 1.702),   // CLIP's original approximation, not erf GELU
        "gelu" => nn.functional.gelu(x),          // exact (erf)
        "relu" => nn.functional.relu(x),
        _ => throw new EvoMergeException($"activation '{name}' is not supported"),
    };
}
