using EvoMerge.Anatomy;
using EvoMerge.IO;

namespace EvoMerge.Tests.IO;

public class ModelFolderTests
{
    [Fact]
    public void Reads_config_weights_layers_and_tokenizer_files()
    {
        using var dir = new TempFolder();
        TinyModel.Write(dir.Path);
        using var model = ModelFolder.Open(dir.Path);
        var c = model.Config!;
        Assert.Equal("LlamaForCausalLM", c.Architecture);
        Assert.Equal((2, 8, 16, 2, 1, 4, 10), (c.NumLayers, c.HiddenSize, c.IntermediateSize, c.NumHeads, c.NumKvHeads, c.HeadDim, c.VocabSize));
        Assert.False(c.TieWordEmbeddings);
        Assert.Equal(10000.0, c.RopeTheta);
        Assert.Contains("\"linear\"", c.RopeScaling);
        Assert.Equal(1e-5, c.NormEpsilon);
        Assert.True(model.Anatomy.IsKnown);
        Assert.Equal(2, model.LayerCount);
        Assert.True(model.Weights.Files.Count > 1, "the tiny model is written in several shards");
        Assert.Equal(4, model.TensorsOfLayer(1).Count());
        Assert.Equal(["tokenizer.json"], model.AuxiliaryFiles.Select(Path.GetFileName));

        using var copy = new TempFolder();
        model.CopyAuxiliaryFilesTo(copy.Path);
        Assert.True(File.Exists(copy.File("tokenizer.json")));
    }

    [Fact]
    public void Values_written_as_float32_read_back_through_bf16()
    {
        using var dir = new TempFolder();
        TinyModel.Write(dir.Path);
        using var model = ModelFolder.Open(dir.Path);
        var info = model.Weights.GetInfo("model.layers.1.mlp.up_proj.weight");
        var values = new float[info.ElementCount];
        FloatConversion.ToFloat32(model.Weights.GetBytes(info.Name), info.DType, values);
        Assert.Equal(Enumerable.Range(0, values.Length).Select(i => i / 8f), values); // i/8 for i < 128 is exact in bf16
    }

    [Theory]
    [InlineData(1 << 30)] // one range
    [InlineData(6)]       // three elements per range, as a tensor past 2 GiB is read in 1 GiB ranges
    [InlineData(1)]       // smaller than an element: still one element per range
    public void ReadFloat32_decodes_whole_tensors_range_by_range(int rangeBytes)
    {
        using var dir = new TempFolder();
        TinyModel.Write(dir.Path);
        using var model = ModelFolder.Open(dir.Path);
        var values = new float[4 * 8];
        model.Weights.ReadFloat32("model.layers.0.self_attn.k_proj.weight", values, rangeBytes);
        Assert.Equal(Enumerable.Range(0, values.Length).Select(i => i / 8f), values);
        Assert.Throws<ArgumentException>(() => model.Weights.ReadFloat32("model.norm.weight", new float[7]));
    }

    [Fact]
    public void A_single_file_opens_with_the_config_beside_it()
    {
        using var dir = new TempFolder();
        TinyModel.Write(dir.Path, maxShardBytes: long.MaxValue);
        using var model = ModelFolder.Open(dir.File("model.safetensors"));
        Assert.Equal("LlamaForCausalLM", model.Config!.Architecture);
        Assert.Single(model.Weights.Files);
    }

    [Fact]
    public void Layer_count_disagreeing_with_config_is_an_error()
    {
        using var dir = new TempFolder();
        TinyModel.Write(dir.Path, layers: 3);
        var e = Assert.Throws<EvoMergeException>(() => ModelFolder.Open(dir.Path));
        Assert.Contains("num_hidden_layers is 2 but the weights have layers 0..2", e.Message);
    }

    [Theory]
    [InlineData("""{"num_hidden_layers": "two"}""", "field 'num_hidden_layers' must be a non-negative integer")]
    [InlineData("""{"tie_word_embeddings": 1}""", "field 'tie_word_embeddings' must be true or false")]
    [InlineData("""[1]""", "expected a JSON object")]
    [InlineData("""{"architectures": [1]}""", "field 'architectures' must be an array of strings")]
    [InlineData("""{""", "not valid JSON")]
    public void Bad_config_fields_are_named(string config, string expected)
    {
        using var dir = new TempFolder();
        TinyModel.Write(dir.Path, config: config);
        var e = Assert.Throws<EvoMergeException>(() => ModelFolder.Open(dir.Path));
        Assert.Contains("config.json", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("llama", false)]
    [InlineData("qwen2", false)]
    [InlineData("gemma", true)]
    [InlineData(null, true)]
    public void Omitted_tie_word_embeddings_follows_the_transformers_default(string? modelType, bool tied)
    {
        var json = new System.Text.Json.Nodes.JsonObject { ["model_type"] = modelType };
        Assert.Equal(tied, ModelConfig.FromJson(json, "config.json").TieWordEmbeddings);
    }

    [Fact]
    public void Kv_heads_default_to_heads_and_gpt2_aliases_are_read()
    {
        var c = ModelConfig.FromJson(System.Text.Json.Nodes.JsonNode.Parse("""{"n_layer": 12, "n_embd": 768, "n_head": 12, "tie_word_embeddings": true}""")!.AsObject(), "config.json");
        Assert.Equal((12, 768, 12, 12, 64, true), (c.NumLayers, c.HiddenSize, c.NumHeads, c.NumKvHeads, c.HeadDim, c.TieWordEmbeddings));
    }
}
