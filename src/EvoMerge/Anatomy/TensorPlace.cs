namespace EvoMerge.Anatomy;

/// <summary>Which network of a model a tensor belongs to: one model folder can hold several (LLaVA: three).</summary>
public enum ModelModule { TextDecoder, VisionTower, Projector, Unet, TextEncoder, TextEncoder2, Vae }

/// <summary>What part of its module a tensor is.</summary>
public enum TensorRole { Layer, Embedding, FinalNorm, Head, Other }

/// <summary>
/// Which sub-block of a layer (or UNet block) a tensor belongs to. In pre-norm transformers a norm belongs to the
/// sub-block it feeds: <c>input_layernorm</c> to attention, <c>post_attention_layernorm</c> to the MLP.
/// In a UNet block the attention projections are <see cref="Attention"/> and everything else <see cref="Convolution"/>.
/// </summary>
public enum TensorPart { None, Attention, Mlp, Convolution }

/// <summary>
/// Where a tensor sits in a model: its module, its role, for <see cref="TensorRole.Layer"/> its layer (or block)
/// index (else −1) and the part of that layer. The one answer every per-layer feature asks for: merge parameters
/// that vary over depth, PS groups, frankenmerge slices, the inspector's table.
/// </summary>
public readonly record struct TensorPlace(ModelModule Module, TensorRole Role, int Layer, TensorPart Part)
{
    public static TensorPlace OfLayer(int layer, TensorPart part = TensorPart.None, ModelModule module = ModelModule.TextDecoder) =>
        new(module, TensorRole.Layer, layer, part);

    public static TensorPlace Of(TensorRole role, ModelModule module = ModelModule.TextDecoder) => new(module, role, -1, TensorPart.None);
}
