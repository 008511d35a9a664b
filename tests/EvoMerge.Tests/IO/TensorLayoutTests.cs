using EvoMerge.IO;

namespace EvoMerge.Tests.IO;

public class TensorLayoutTests
{
    [Theory]
    [InlineData("LlamaForCausalLM")]
    [InlineData("MistralForCausalLM")]
    [InlineData("Qwen2ForCausalLM")]
    [InlineData(null)] // unknown: inferred from the names, same answers
    [InlineData("SomethingNewForCausalLM")]
    public void Classifies_Llama_style_names(string? architecture)
    {
        var layout = TensorLayout.For(architecture);
        Assert.Equal(architecture is "LlamaForCausalLM" or "MistralForCausalLM" or "Qwen2ForCausalLM", layout.IsKnown);
        Assert.Equal(TensorPlace.Of(TensorRole.Embedding), layout.Classify("model.embed_tokens.weight"));
        Assert.Equal(TensorPlace.Of(TensorRole.FinalNorm), layout.Classify("model.norm.weight"));
        Assert.Equal(TensorPlace.Of(TensorRole.Head), layout.Classify("lm_head.weight"));
        Assert.Equal(TensorPlace.OfLayer(0), layout.Classify("model.layers.0.self_attn.q_proj.weight"));
        Assert.Equal(TensorPlace.OfLayer(31), layout.Classify("model.layers.31.post_attention_layernorm.weight"));
        Assert.Equal(12, layout.LayerOf("model.layers.12.mlp.down_proj.weight"));
        Assert.Equal(-1, layout.LayerOf("model.norm.weight"));
    }

    [Fact]
    public void Infers_other_naming_schemes()
    {
        var layout = TensorLayout.For(null);
        Assert.Equal(TensorPlace.OfLayer(5), layout.Classify("transformer.h.5.attn.c_attn.weight"));       // GPT-2
        Assert.Equal(TensorPlace.OfLayer(2), layout.Classify("blocks.2.attn.wq.weight"));
        Assert.Equal(TensorPlace.Of(TensorRole.Embedding), layout.Classify("transformer.wte.weight"));
        Assert.Equal(TensorPlace.Of(TensorRole.FinalNorm), layout.Classify("transformer.ln_f.weight"));
        Assert.Equal(TensorPlace.Of(TensorRole.Head), layout.Classify("embed_out.weight"));               // GPT-NeoX head, not an embedding
        Assert.Equal(TensorPlace.Of(TensorRole.Other), layout.Classify("rotary.inv_freq"));
    }

    [Fact]
    public void Known_layout_does_not_guess()
    {
        var layout = TensorLayout.For("LlamaForCausalLM");
        Assert.Equal(TensorPlace.Of(TensorRole.Other), layout.Classify("model.extra_norm.weight"));
        Assert.Equal(-1, layout.LayerOf("model.layers.x.weight"));
        Assert.Equal(-1, layout.LayerOf("model.layers.3"));
    }

    [Theory]
    [InlineData("model.layers.3.mlp.up_proj.weight", 17, "model.layers.17.mlp.up_proj.weight")]
    [InlineData("model.layers.17.self_attn.o_proj.weight", 0, "model.layers.0.self_attn.o_proj.weight")]
    public void Renumbers_a_layer(string name, int layer, string expected) =>
        Assert.Equal(expected, TensorLayout.For("LlamaForCausalLM").WithLayer(name, layer));

    [Fact]
    public void Renumbering_a_non_layer_tensor_is_refused() =>
        Assert.Throws<ArgumentException>(() => TensorLayout.For(null).WithLayer("model.norm.weight", 1));
}
