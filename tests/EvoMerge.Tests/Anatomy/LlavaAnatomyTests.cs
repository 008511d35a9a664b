using EvoMerge.Anatomy;

namespace EvoMerge.Tests.Anatomy;

/// <summary>LLaVA's three modules under transformers 4.x and 5.x names, and the decoder's plain-LLM names.</summary>
public class LlavaAnatomyTests
{
    static readonly ModelAnatomy Llava = ModelAnatomy.For("LlavaForConditionalGeneration");

    [Theory]
    [InlineData("language_model.model.layers.3.mlp.up_proj.weight", "model.layers.3.mlp.up_proj.weight")]
    [InlineData("model.language_model.layers.3.mlp.up_proj.weight", "model.layers.3.mlp.up_proj.weight")]
    [InlineData("language_model.lm_head.weight", "lm_head.weight")]
    [InlineData("lm_head.weight", "lm_head.weight")]
    [InlineData("model.language_model.embed_tokens.weight", "model.embed_tokens.weight")]
    [InlineData("vision_tower.vision_model.encoder.layers.3.mlp.fc1.weight", null)]
    [InlineData("model.multi_modal_projector.linear_1.weight", null)]
    public void DecoderNames(string name, string? decoder) => Assert.Equal(decoder, Llava.DecoderName(name));

    [Fact]
    public void Places()
    {
        Assert.Equal(TensorPlace.OfLayer(3, TensorPart.Mlp), Llava.Place("model.language_model.layers.3.mlp.up_proj.weight"));
        Assert.Equal(TensorPlace.OfLayer(3, TensorPart.Attention), Llava.Place("language_model.model.layers.3.self_attn.q_proj.weight"));
        Assert.Equal(TensorPlace.Of(TensorRole.Embedding), Llava.Place("language_model.model.embed_tokens.weight"));
        Assert.Equal(TensorPlace.Of(TensorRole.Head), Llava.Place("lm_head.weight"));
        Assert.Equal(TensorPlace.OfLayer(7, TensorPart.Mlp, ModelModule.VisionTower),
            Llava.Place("model.vision_tower.vision_model.encoder.layers.7.layer_norm2.weight"));
        Assert.Equal(TensorPlace.OfLayer(7, TensorPart.Attention, ModelModule.VisionTower),
            Llava.Place("vision_tower.vision_model.encoder.layers.7.self_attn.k_proj.bias"));
        Assert.Equal(TensorPlace.Of(TensorRole.Embedding, ModelModule.VisionTower), Llava.Place("vision_tower.vision_model.embeddings.class_embedding"));
        Assert.Equal(TensorPlace.Of(TensorRole.Other, ModelModule.Projector), Llava.Place("multi_modal_projector.linear_2.bias"));
    }

    [Fact]
    public void WithLayerRenumbersInPlace()
    {
        Assert.Equal("model.language_model.layers.12.mlp.up_proj.weight", Llava.WithLayer("model.language_model.layers.3.mlp.up_proj.weight", 12));
        Assert.Equal("language_model.model.layers.0.input_layernorm.weight", Llava.WithLayer("language_model.model.layers.31.input_layernorm.weight", 0));
        Assert.Equal(-1, Llava.LayerOf("multi_modal_projector.linear_1.weight"));
    }
}
