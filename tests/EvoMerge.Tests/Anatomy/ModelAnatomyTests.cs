using EvoMerge.Anatomy;

namespace EvoMerge.Tests.Anatomy;

public class ModelAnatomyTests
{
    [Theory]
    [InlineData("LlamaForCausalLM")]
    [InlineData("MistralForCausalLM")]
    [InlineData("Qwen2ForCausalLM")]
    [InlineData(null)] // unknown: inferred from the names, same answers
    [InlineData("SomethingNewForCausalLM")]
    public void Classifies_Llama_style_names(string? architecture)
    {
        var anatomy = ModelAnatomy.For(architecture);
        Assert.Equal(architecture is "LlamaForCausalLM" or "MistralForCausalLM" or "Qwen2ForCausalLM", anatomy.IsKnown);
        Assert.Equal(TensorPlace.Of(TensorRole.Embedding), anatomy.Place("model.embed_tokens.weight"));
        Assert.Equal(TensorPlace.Of(TensorRole.FinalNorm), anatomy.Place("model.norm.weight"));
        Assert.Equal(TensorPlace.Of(TensorRole.Head), anatomy.Place("lm_head.weight"));
        Assert.Equal(TensorPlace.OfLayer(0, TensorPart.Attention), anatomy.Place("model.layers.0.self_attn.q_proj.weight"));
        Assert.Equal(TensorPlace.OfLayer(31, TensorPart.Mlp), anatomy.Place("model.layers.31.post_attention_layernorm.weight"));
        Assert.Equal(TensorPlace.OfLayer(2, TensorPart.Attention), anatomy.Place("model.layers.2.input_layernorm.weight"));
        Assert.Equal(TensorPlace.OfLayer(7, TensorPart.Mlp), anatomy.Place("model.layers.7.mlp.gate_proj.weight"));
        Assert.Equal(12, anatomy.LayerOf("model.layers.12.mlp.down_proj.weight"));
        Assert.Equal(-1, anatomy.LayerOf("model.norm.weight"));
    }

    [Fact]
    public void Mixtral_router_and_experts_are_the_mlp_part()
    {
        var anatomy = ModelAnatomy.For("MixtralForCausalLM");
        Assert.Equal(TensorPlace.OfLayer(3, TensorPart.Mlp), anatomy.Place("model.layers.3.block_sparse_moe.gate.weight"));
        Assert.Equal(TensorPlace.OfLayer(3, TensorPart.Mlp), anatomy.Place("model.layers.3.block_sparse_moe.experts.7.w2.weight"));
        Assert.Equal(TensorPlace.OfLayer(3, TensorPart.Attention), anatomy.Place("model.layers.3.self_attn.o_proj.weight"));
    }

    [Fact]
    public void Infers_other_naming_schemes()
    {
        var anatomy = ModelAnatomy.For(null);
        Assert.Equal(TensorPlace.OfLayer(5, TensorPart.Attention), anatomy.Place("transformer.h.5.attn.c_attn.weight"));       // GPT-2
        Assert.Equal(TensorPlace.OfLayer(2, TensorPart.Attention), anatomy.Place("blocks.2.attn.wq.weight"));
        Assert.Equal(TensorPlace.Of(TensorRole.Embedding), anatomy.Place("transformer.wte.weight"));
        Assert.Equal(TensorPlace.Of(TensorRole.FinalNorm), anatomy.Place("transformer.ln_f.weight"));
        Assert.Equal(TensorPlace.Of(TensorRole.Head), anatomy.Place("embed_out.weight"));               // GPT-NeoX head, not an embedding
        Assert.Equal(TensorPlace.Of(TensorRole.Other), anatomy.Place("rotary.inv_freq"));
    }

    [Fact]
    public void Known_layout_does_not_guess()
    {
        var anatomy = ModelAnatomy.For("LlamaForCausalLM");
        Assert.Equal(TensorPlace.Of(TensorRole.Other), anatomy.Place("model.extra_norm.weight"));
        Assert.Equal(-1, anatomy.LayerOf("model.layers.x.weight"));
        Assert.Equal(-1, anatomy.LayerOf("model.layers.3"));
    }

    [Theory]
    [InlineData("model.layers.0.mlp.up_proj.weight", 0, GroupPart.Mlp)]
    [InlineData("model.layers.1.post_attention_layernorm.weight", 0, GroupPart.Mlp)]
    [InlineData("model.layers.1.input_layernorm.weight", 0, GroupPart.Attention)]
    [InlineData("model.embed_tokens.weight", 1, GroupPart.Embeddings)]
    [InlineData("model.norm.weight", 2, GroupPart.Head)]
    [InlineData("lm_head.weight", 2, GroupPart.Head)]
    public void Groups_select_places(string name, int group, GroupPart part)
    {
        // A 2-layer model grouped by part; a layer's norms go with the sub-block they feed.
        TensorGroup[] byPart = [new("mlp", 0, 1, [GroupPart.Mlp, GroupPart.Attention]), new("embed", 0, 1, [GroupPart.Embeddings]), new("head", 0, 1, [GroupPart.Head])];
        var place = ModelAnatomy.For("LlamaForCausalLM").Place(name);
        Assert.Equal(group, TensorGroup.IndexOf(byPart, place));
        Assert.True(new TensorGroup("only", 0, 1, [part]).Contains(place));
    }

    [Fact]
    public void A_place_no_group_covers_is_an_error() =>
        Assert.Throws<EvoMergeException>(() => TensorGroup.IndexOf([new TensorGroup("layer 0", 0, 0, [GroupPart.Attention])],
            ModelAnatomy.For(null).Place("model.layers.1.self_attn.q_proj.weight")));

    [Theory]
    [InlineData("model.layers.3.mlp.up_proj.weight", 17, "model.layers.17.mlp.up_proj.weight")]
    [InlineData("model.layers.17.self_attn.o_proj.weight", 0, "model.layers.0.self_attn.o_proj.weight")]
    public void Renumbers_a_layer(string name, int layer, string expected) =>
        Assert.Equal(expected, ModelAnatomy.For("LlamaForCausalLM").WithLayer(name, layer));

    [Fact]
    public void Renumbering_a_non_layer_tensor_is_refused() =>
        Assert.Throws<ArgumentException>(() => ModelAnatomy.For(null).WithLayer("model.norm.weight", 1));
}
