using System.Text.Json;
using EvoMerge.IO;

namespace EvoMerge.Tests.IO;

/// <summary>The numbers <c>evomerge inspect</c> prints, checked against counts worked out by hand for <see cref="TinyModel"/>.</summary>
public class ModelSummaryTests
{
    // embed 10×8 = 80; per layer 8 + 8×8 + 4×8 + 16×8 = 232; norm 8; head 10×8 = 80.
    const long Parameters = 80 + 2 * 232 + 8 + 80;

    [Fact]
    public void Json_has_architecture_parameters_layers_dtypes_and_tensors()
    {
        using var dir = new TempFolder();
        TinyModel.Write(dir.Path);
        using var model = ModelFolder.Open(dir.Path);
        var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream)) ModelSummary.Of(model).WriteJson(writer);
        using var doc = JsonDocument.Parse(stream.ToArray());
        var root = doc.RootElement;

        Assert.Equal("LlamaForCausalLM", root.GetProperty("architecture").GetString());
        Assert.Equal(Parameters, root.GetProperty("parameters").GetInt64());
        Assert.Equal(2 * (Parameters - 8) + 4 * 8, root.GetProperty("bytes").GetInt64()); // everything bf16 but the f32 norm
        Assert.Equal(2, root.GetProperty("layers").GetInt32());
        Assert.Equal(Parameters - 8, root.GetProperty("dtypes").GetProperty("BF16").GetInt64());
        Assert.Equal(8, root.GetProperty("dtypes").GetProperty("F32").GetInt64());
        Assert.Equal(1, root.GetProperty("config").GetProperty("num_key_value_heads").GetInt32());
        Assert.Equal("linear", root.GetProperty("config").GetProperty("rope_scaling").GetProperty("type").GetString());

        var tensors = root.GetProperty("tensors").EnumerateArray().ToList();
        Assert.Equal(11, tensors.Count);
        var k = tensors.Single(t => t.GetProperty("name").GetString() == "model.layers.1.self_attn.k_proj.weight");
        Assert.Equal("BF16", k.GetProperty("dtype").GetString());
        Assert.Equal([4L, 8L], k.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal(1, k.GetProperty("layer").GetInt32());
        Assert.Equal("head", tensors.Single(t => t.GetProperty("name").GetString() == "lm_head.weight").GetProperty("role").GetString());

        var perLayer = root.GetProperty("per_layer").EnumerateArray().ToList();
        Assert.Equal(["embedding", "0", "1", "final_norm", "head"],
            perLayer.Select(r => r.TryGetProperty("layer", out var l) ? l.GetInt32().ToString() : r.GetProperty("role").GetString()));
        Assert.Equal(232, perLayer[1].GetProperty("parameters").GetInt64());
        Assert.Equal(model.Weights.Files.Count, root.GetProperty("shards").GetArrayLength());
    }
}
