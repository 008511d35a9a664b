using EvoMerge.Torch.Model;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Tests.Runtime;

public class LlamaModelTests
{
    [Fact]
    public void ParametersAreNamedAndShapedAsHuggingFaceNamesThem()
    {
        var c = TinyModels.Config(bias: true, layers: 1);
        using var m = new LlamaForCausalLM(c);
        var actual = m.named_parameters().ToDictionary(p => p.name, p => string.Join("x", p.parameter.shape));
        // Written from transformers' LlamaForCausalLM / Qwen2 state_dict for hidden 32, 4 heads of 8, 2 kv heads, ffn 48.
        var expected = new Dictionary<string, string>
        {
            ["model.embed_tokens.weight"] = "61x32",
            ["model.layers.0.input_layernorm.weight"] = "32",
            ["model.layers.0.self_attn.q_proj.weight"] = "32x32",
            ["model.layers.0.self_attn.q_proj.bias"] = "32",
            ["model.layers.0.self_attn.k_proj.weight"] = "16x32",
            ["model.layers.0.self_attn.k_proj.bias"] = "16",
            ["model.layers.0.self_attn.v_proj.weight"] = "16x32",
            ["model.layers.0.self_attn.v_proj.bias"] = "16",
            ["model.layers.0.self_attn.o_proj.weight"] = "32x32",
            ["model.layers.0.post_attention_layernorm.weight"] = "32",
            ["model.layers.0.mlp.gate_proj.weight"] = "48x32",
            ["model.layers.0.mlp.up_proj.weight"] = "48x32",
            ["model.layers.0.mlp.down_proj.weight"] = "32x48",
            ["model.norm.weight"] = "32",
            ["lm_head.weight"] = "61x32",
        };
        Assert.Equal(expected.OrderBy(p => p.Key), actual.OrderBy(p => p.Key));
    }

    [Fact]
    public void TiedModelHasNoHeadAndUsesTheEmbeddings()
    {
        using var m = TinyModels.Random(TinyModels.Config(tied: true));
        Assert.DoesNotContain(m.named_parameters(), p => p.name == "lm_head.weight");
        using var scope = NewDisposeScope();
        Assert.Equal(new long[] { 1, 5, 61 }, m.forward(TinyModels.Ids(3, 1, 5, 61)).shape);
    }

    [Fact]
    public void TrainingStepsLowerTheLoss()
    {
        using var m = TinyModels.Random(TinyModels.Config());
        m.train();
        var opt = optim.Adam(m.parameters(), lr: 3e-3);
        var ids = TinyModels.Ids(5, 4, 12, 61);
        float first = 0, last = 0;
        for (int i = 0; i < 30; i++)
        {
            using var scope = NewDisposeScope();
            opt.zero_grad();
            var logits = m.forward(ids.narrow(1, 0, 11));
            var loss = nn.functional.cross_entropy(logits.reshape(-1, 61), ids.narrow(1, 1, 11).reshape(-1));
            loss.backward();
            opt.step();
            if (i == 0) first = loss.item<float>();
            last = loss.item<float>();
        }
        Assert.True(last < 0.5f * first, $"loss went from {first} to {last}");
    }

    [Fact]
    public void Bfloat16ForwardTracksFloat32()
    {
        var c = TinyModels.Config();
        using var f32 = TinyModels.Random(c);
        using var bf16 = TinyModels.Random(c, dtype: ScalarType.BFloat16);
        using var scope = NewDisposeScope();
        var ids = TinyModels.Ids(7, 2, 9, 61);
        var a = f32.forward(ids);
        var b = bf16.forward(ids).to_type(ScalarType.Float32);
        Assert.Equal(ScalarType.BFloat16, bf16.forward(ids).dtype);
        // bf16 keeps 8 bits of mantissa: expect agreement to a few percent of the logit scale.
        double err = (a - b).abs().max().item<float>(), scale = a.abs().max().item<float>();
        Assert.True(err < 0.05 * scale, $"max |f32 - bf16| = {err} for logits up to {scale}");
    }
}
