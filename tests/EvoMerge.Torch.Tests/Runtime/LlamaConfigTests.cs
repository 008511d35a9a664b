using System.Text.Json.Nodes;
using EvoMerge.IO;
using EvoMerge.Torch.Model;

namespace EvoMerge.Torch.Tests.Runtime;

/// <summary>config.json files as published on the Hugging Face Hub (abridged to the fields the runtime reads).</summary>
public class LlamaConfigTests
{
    static LlamaConfig Parse(string json) =>
        LlamaConfig.From(ModelConfig.FromJson((JsonObject)JsonNode.Parse(json)!, "m/config.json"), "m/config.json");

    /// <summary>Issue 11 §5: absent fields take transformers' LlamaConfig defaults, the same in code and when read.</summary>
    [Fact]
    public void AbsentFieldsTakeTransformersDefaultsOnce()
    {
        var c = Parse("""
{"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
            "num_attention_heads": 4, "vocab_size": 10}
""");
        // transformers' LlamaConfig: rms_norm_eps=1e-6, tie_word_embeddings=False, rope_theta=10000.0, max_position_embeddings=2048.
        Assert.Equal((1e-6f, false, 10000.0, 2048), (c.RmsNormEps, c.TieWordEmbeddings, c.RopeTheta, c.MaxPositionEmbeddings));
        var inCode = new LlamaConfig { VocabSize = 10, HiddenSize = 64, IntermediateSize = 128, NumLayers = 2, NumHeads = 4 }.Validated();
        Assert.Equal(c, inCode);
    }

    [Fact]
    public void Mistral7B()
    {
        var c = Parse("""
{"architectures": ["MistralForCausalLM"], "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
            "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 32000, "rms_norm_eps": 1e-05, "rope_theta": 10000.0,
            "sliding_window": 4096, "tie_word_embeddings": false, "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": 2}
""");
        Assert.Equal((128, 8, false, false), (c.HeadDim, c.NumKvHeads, c.TieWordEmbeddings, c.AttentionBias));
    }

    [Fact]
    public void Qwen2HasQkvBiasesAndTiesWhenItSaysSo()
    {
        var c = Parse("""
{"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 896, "intermediate_size": 4864,
            "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2, "vocab_size": 151936, "rms_norm_eps": 1e-06,
            "rope_theta": 1000000.0, "tie_word_embeddings": true, "hidden_act": "silu", "bos_token_id": 151643, "eos_token_id": 151643}
""");
        Assert.Equal((64, true, true, false), (c.HeadDim, c.TieWordEmbeddings, c.AttentionBias, c.OutputProjectionBias));
        Assert.Equal(1e6, c.RopeTheta);
    }

    [Fact]
    public void Llama31RopeScalingAndEosList()
    {
        var c = Parse("""
{"architectures": ["LlamaForCausalLM"], "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
            "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 128256, "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
            "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192, "rope_type": "llama3"},
            "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "attention_bias": false, "mlp_bias": false}
""");
        Assert.Equal(new RopeScaling("llama3", 8, 1, 4, 8192), c.RopeScaling);
        Assert.Equal(128001, c.EosTokenId);
    }

    [Fact]
    public void ErrorsNameTheFileAndTheField()
    {
        var e = Assert.Throws<EvoMergeException>(() => Parse("""
{"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "vocab_size": 10}
"""));
        Assert.Equal("m/config.json: field 'num_attention_heads' is missing or not an integer", e.Message);
        e = Assert.Throws<EvoMergeException>(() => Parse("""
{"architectures": ["GPT2LMHeadModel"]}
"""));
        Assert.Contains("'architectures' is 'GPT2LMHeadModel'", e.Message);
        e = Assert.Throws<EvoMergeException>(() => Parse("""
{"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "vocab_size": 10,
            "num_attention_heads": 4, "num_key_value_heads": 3}
"""));
        Assert.Contains("'num_key_value_heads' must be a divisor of num_attention_heads (4)", e.Message);
        e = Assert.Throws<EvoMergeException>(() => Parse("""
{"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "vocab_size": 10,
            "num_attention_heads": 4, "rope_scaling": {"rope_type": "yarn", "factor": 4}}
"""));
        Assert.Contains("rope_scaling.rope_type", e.Message);
    }
}
