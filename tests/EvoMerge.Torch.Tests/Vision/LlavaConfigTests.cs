using System.Text.Json.Nodes;
using EvoMerge.IO;
using EvoMerge.TestSupport;
using EvoMerge.Torch.Tests.Cli;
using EvoMerge.Torch.Vision.Model;
using EvoMerge.Torch.Vision.Runtime;

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

    /// <summary>
    /// A LLaVA-1.6 folder (anyres tiling, not implemented) is refused by name wherever it is opened: the folder reader
    /// (merge, evolve, inspect), the runtime, and the CLI's merge and generate — one line naming the folder and field.
    /// </summary>
    [PythonReferenceFact("torch")]
    public void AnyresFolderIsRefusedByTheFolderReaderTheRuntimeAndTheCli()
    {
        string dir = LlavaFixture.Make(seed: 2);
        string work = Directory.CreateTempSubdirectory("anyres-").FullName;
        try
        {
            string configPath = Path.Combine(dir, "config.json");
            var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
            config["architectures"] = new JsonArray("LlavaNextForConditionalGeneration");
            config["model_type"] = "llava_next";
            File.WriteAllText(configPath, config.ToJsonString());
            const string Message = "field 'architectures' is 'LlavaNextForConditionalGeneration': LLaVA-1.6 anyres tiling is not supported";

            foreach (var e in new[] { Assert.Throws<EvoMergeException>(() => ModelFolder.Open(dir)), Assert.Throws<EvoMergeException>(() => LoadedVlm.Load(dir)) })
            {
                Assert.Contains(dir, e.Message);
                Assert.Contains(Message, e.Message);
                Assert.DoesNotContain('\n', e.Message);
            }
            string recipe = Path.Combine(work, "recipe.yml");
            File.WriteAllText(recipe, $"merge_method: linear\nmodels:\n  - model: {dir}\n    parameters: {{weight: 1}}\n");
            var merge = CliRunner.Run("merge", recipe, Path.Combine(work, "out"));
            Assert.NotEqual(0, merge.Code);
            Assert.Contains(Message, merge.Stderr);
            Assert.False(Directory.Exists(Path.Combine(work, "out")));
            // A 1×1 PNG: the refusal comes before the image is read.
            File.WriteAllBytes(Path.Combine(work, "x.png"), Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="));
            var generate = CliRunner.Run("generate", dir, "--image", Path.Combine(work, "x.png"), "hi");
            Assert.NotEqual(0, generate.Code);
            Assert.Contains(Message, generate.Stderr);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
            Directory.Delete(work, recursive: true);
        }
    }
}
