using System.Text.Json.Nodes;
using EvoMerge.Torch.Vision.Model;

namespace EvoMerge.Torch.Tests.Vision;

/// <summary>llava config.json: transformers' defaults, and one-line refusals of what the runtime does not run.</summary>
public class LlavaConfigTests
{
    static LlavaConfig Parse(string json) => LlavaConfig.FromJson(JsonNode.Parse(json)!.AsObject(), "config.json");

    [Fact]
    public void Llava15StyleConfigTakesTransformersDefaults()
    {
        // llava-hf/llava-1.5-7b-hf lists only what differs from the defaults.
        var c = Parse("""
            {"architectures": ["LlavaForConditionalGeneration"], "model_type": "llava", "image_token_index": 32000,
             "text_config": {"model_type": "llama", "vocab_size": 32064},
             "vision_config": {"hidden_size": 1024, "image_size": 336, "intermediate_size": 4096, "num_attention_heads": 16,
                               "num_hidden_layers": 24, "patch_size": 14, "projection_dim": 768}}
            """);
        Assert.Equal((4096, 32, 32064, 11008), (c.Text.HiddenSize, c.Text.NumLayers, c.Text.VocabSize, c.Text.IntermediateSize));
        Assert.Equal(576, c.TokensPerImage);
        Assert.Equal([-2], c.VisionFeatureLayers);
        Assert.Equal("quick_gelu", c.Vision.HiddenAct);
    }

    [Theory]
    [InlineData("""{"architectures": ["LlavaNextForConditionalGeneration"], "model_type": "llava_next"}""", "anyres tiling is not supported")]
    [InlineData("""{"model_type": "llava", "vision_config": {"model_type": "siglip_vision_model"}}""", "only a CLIP vision tower")]
    [InlineData("""{"model_type": "llava", "vision_feature_select_strategy": "cls"}""", "field 'vision_feature_select_strategy' is 'cls'")]
    [InlineData("""{"model_type": "llava", "vision_feature_layer": 40}""", "field 'vision_feature_layer' is 40")]
    [InlineData("""{"architectures": ["LlamaForCausalLM"]}""", "expected LlavaForConditionalGeneration")]
    public void UnsupportedConfigsAreRefusedByField(string json, string message)
    {
        var e = Assert.Throws<EvoMergeException>(() => Parse(json));
        Assert.StartsWith("config.json: ", e.Message);
        Assert.Contains(message, e.Message);
    }
}
