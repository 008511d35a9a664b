using EvoMerge.Anatomy;
using EvoMerge.IO;
using EvoMerge.TestSupport;

namespace EvoMerge.Tests.Anatomy;

/// <summary>
/// SDXL-base's real tensor names in both layouts, from the architecture walk of sdxl_structure.py: every tensor's
/// component, block and part, and the layouts EvoMerge must refuse.
/// </summary>
public sealed class DiffusionAnatomyTests : IDisposable
{
    readonly string _root = Directory.CreateTempSubdirectory("evomerge-diffusion-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    static ModelModule ModuleOf(string component) => component switch
    {
        "unet" => ModelModule.Unet,
        "text_encoder" => ModelModule.TextEncoder,
        "text_encoder_2" => ModelModule.TextEncoder2,
        "vae" => ModelModule.Vae,
        _ => throw new ArgumentException(component),
    };

    static TensorPlace Expected(DiffusionFixtures.Label l) => l.Block >= 0
        ? TensorPlace.OfLayer(l.Block, l.Part == "attn" ? TensorPart.Attention : TensorPart.Convolution, ModuleOf(l.Component))
        : TensorPlace.Of(TensorRole.Other, ModuleOf(l.Component));

    static void AssertEveryPlace(ModelFolder model, IReadOnlyList<DiffusionFixtures.Label> labels)
    {
        Assert.Equal(labels.Select(l => l.Name).Order(StringComparer.Ordinal), model.Weights.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
        foreach (var l in labels)
        {
            Assert.True(Expected(l) == model.Anatomy.Place(l.Name), $"{l.Name}: expected {Expected(l)}, got {model.Anatomy.Place(l.Name)}");
            Assert.Equal(l.Shape, model.Weights.GetInfo(l.Name).Shape);
        }
    }

    [PythonReferenceFact("numpy")]
    public void Every_tensor_of_an_sdxl_pipeline_folder_gets_its_component_block_and_part()
    {
        string folder = DiffusionFixtures.Write(_root, 1);
        var (pipeline, _) = DiffusionFixtures.Labels(folder);
        using var model = ModelFolder.Open(Path.Combine(folder, "pipeline"));
        Assert.Equal(DiffusionLayout.Pipeline, model.Anatomy.Diffusion);
        AssertEveryPlace(model, pipeline);
        Assert.Equal(19, model.LayerCount);          // IN00-IN08, M00, OUT00-OUT08
        Assert.Equal(1680, pipeline.Count(l => l.Component == "unet"));   // SDXL's UNet state dict
        Assert.Equal(700, pipeline.Count(l => l.Part == "attn"));
        // The plain weights are read, not the fp16 variant beside them (written as zeros).
        Assert.EndsWith("unet/diffusion_pytorch_model.safetensors", model.Pipeline!.Components[0].WeightsPath);
        Assert.Equal(["unet", "text_encoder", "text_encoder_2", "vae"], model.Pipeline.Components.Select(c => c.Name));
        // inspect's view: the pipeline's class, 19 layers, one row per UNet block, one per other module.
        var summary = ModelSummary.Of(model);
        Assert.Equal("StableDiffusionXLPipeline", summary.Architecture);
        Assert.Equal(19, summary.Layers);
        Assert.Equal(19 + 3, summary.PerLayer.Count);
        Assert.Equal(pipeline.Count(l => l.Component == "unet" && l.Block == 9), summary.PerLayer.Single(r => r.Label == "M00 (block 9)").Tensors);
        Assert.Equal(248, summary.PerLayer.Single(r => r.Label == "vae").Tensors);
    }

    [PythonReferenceFact("numpy")]
    public void Every_tensor_of_an_sdxl_single_file_gets_the_same_blocks_as_in_diffusers_names()
    {
        string folder = DiffusionFixtures.Write(_root, 1);
        var (pipeline, single) = DiffusionFixtures.Labels(folder);
        using var model = ModelFolder.Open(Path.Combine(folder, "sdxl.safetensors"));
        Assert.Equal(DiffusionLayout.SingleFile, model.Anatomy.Diffusion);
        AssertEveryPlace(model, single);
        Assert.Equal(19, model.LayerCount);
        // Same UNet, two namings: tensors per (block, part) agree, so a block-weighted recipe means the same in both.
        static IEnumerable<string> Census(IEnumerable<DiffusionFixtures.Label> ls) =>
            ls.Where(l => l.Component == "unet").GroupBy(l => (l.Block, l.Part)).Select(g => $"{g.Key}: {g.Count()}").Order();
        Assert.Equal(Census(pipeline), Census(single));
        Assert.Equal(Enumerable.Range(0, 19).Select(b => b < 9 ? $"IN{b:D2}" : b == 9 ? "M00" : $"OUT{b - 10:D2}"),
            Enumerable.Range(0, 19).Select(model.Anatomy.BlockName));
    }

    [PythonReferenceFact("numpy")]
    public void A_diffusers_unet_folder_on_its_own_has_the_same_blocks()
    {
        string folder = DiffusionFixtures.Write(_root, 1);
        var (pipeline, _) = DiffusionFixtures.Labels(folder);
        string unet = Path.Combine(folder, "pipeline", "unet");
        File.Delete(Path.Combine(unet, "diffusion_pytorch_model.fp16.safetensors"));
        using var model = ModelFolder.Open(unet);
        Assert.Equal(DiffusionLayout.DiffusersUnet, model.Anatomy.Diffusion);
        AssertEveryPlace(model, pipeline.Where(l => l.Component == "unet").Select(l => l with { Name = l.Name["unet.".Length..] }).ToList());
    }

    [Fact]
    public void UNet_blocks_follow_block_weighted_numbering_in_both_namings()
    {
        var diffusers = ModelAnatomy.Of(null, ["conv_in.weight", "down_blocks.0.resnets.1.conv1.weight", "down_blocks.2.resnets.0.conv1.weight",
            "up_blocks.2.resnets.2.conv1.weight", "conv_out.weight"]);
        Assert.Equal(TensorPlace.OfLayer(0, TensorPart.Convolution, ModelModule.Unet), diffusers.Place("conv_in.weight"));
        Assert.Equal(0, diffusers.LayerOf("time_embedding.linear_1.weight"));
        Assert.Equal(3, diffusers.LayerOf("down_blocks.0.downsamplers.0.conv.weight"));
        Assert.Equal(5, diffusers.LayerOf("down_blocks.1.attentions.1.transformer_blocks.0.attn2.to_k.weight"));
        Assert.Equal(TensorPart.Attention, diffusers.Place("mid_block.attentions.0.transformer_blocks.9.attn1.to_out.0.bias").Part);
        Assert.Equal(TensorPart.Convolution, diffusers.Place("mid_block.attentions.0.transformer_blocks.9.ff.net.2.weight").Part);
        Assert.Equal(9, diffusers.LayerOf("mid_block.resnets.1.conv2.weight"));
        Assert.Equal(12, diffusers.LayerOf("up_blocks.0.upsamplers.0.conv.weight"));
        Assert.Equal(18, diffusers.LayerOf("conv_norm_out.bias"));
        var ldm = ModelAnatomy.Of(null, ["model.diffusion_model.input_blocks.8.0.in_layers.0.weight", "model.diffusion_model.output_blocks.8.0.skip_connection.weight"]);
        Assert.Equal(12, ldm.LayerOf("model.diffusion_model.output_blocks.2.2.conv.weight"));
        Assert.Equal(18, ldm.LayerOf("model.diffusion_model.out.2.weight"));
        Assert.Equal(0, ldm.LayerOf("model.diffusion_model.label_emb.0.0.weight"));
        Assert.Equal(TensorPlace.Of(TensorRole.Other, ModelModule.Vae), ldm.Place("first_stage_model.decoder.mid.attn_1.q.weight"));
        // SD 1.x: four down blocks, 12 + 1 + 12.
        var sd15 = ModelAnatomy.Of(null, ["model.diffusion_model.input_blocks.11.0.in_layers.0.weight", "model.diffusion_model.output_blocks.11.1.proj_out.weight",
            "cond_stage_model.transformer.text_model.final_layer_norm.weight"]);
        Assert.Equal(25, sd15.UnetBlocks);
        Assert.Equal("OUT11", sd15.BlockName(24));
        Assert.Equal(ModelModule.TextEncoder, sd15.Place("cond_stage_model.transformer.text_model.final_layer_norm.weight").Module);
    }

    [Fact]
    public void UNet_blocks_stay_in_place()
    {
        var a = ModelAnatomy.Of(null, ["down_blocks.0.resnets.1.conv1.weight", "up_blocks.0.resnets.2.conv1.weight"]);
        Assert.Equal("down_blocks.0.resnets.1.conv1.weight", a.WithLayer("down_blocks.0.resnets.1.conv1.weight", 2));
        var e = Assert.Throws<EvoMergeException>(() => a.WithLayer("down_blocks.0.resnets.1.conv1.weight", 4));
        Assert.Contains("IN02", e.Message);
    }

    [Theory]
    [InlineData("model.diffusion_model.input_blocks.0.0.weight", "down_blocks.0.resnets.0.conv1.weight")]   // single file + diffusers UNet
    [InlineData("model.diffusion_model.input_blocks.0.0.weight", "model.diffusion_model.down_blocks.0.resnets.0.conv1.weight")]
    [InlineData("unet.conv_in.weight", "first_stage_model.encoder.conv_in.weight")]
    public void Mixed_layouts_in_one_checkpoint_are_refused_naming_a_tensor_of_each(string one, string other)
    {
        var e = Assert.Throws<EvoMergeException>(() => ModelAnatomy.Of(null, [one, other, "model.diffusion_model.out.2.weight"]));
        Assert.Contains($"'{one}'", e.Message);
        Assert.Contains($"'{other}'", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_mixed_single_file_is_refused_on_open_naming_the_file()
    {
        string file = Path.Combine(_root, "mixed.safetensors");
        using (var w = SafetensorsWriter.Create(_root, [new TensorSpec("model.diffusion_model.input_blocks.0.0.weight", DType.F32, [1]),
                   new TensorSpec("down_blocks.0.resnets.0.conv1.weight", DType.F32, [1])]))
        {
            w.WriteFloat32("model.diffusion_model.input_blocks.0.0.weight", [1f]);
            w.WriteFloat32("down_blocks.0.resnets.0.conv1.weight", [1f]);
            w.Complete();
        }
        File.Move(Path.Combine(_root, "model.safetensors"), file);
        var e = Assert.Throws<EvoMergeException>(() => ModelFolder.Open(file));
        Assert.StartsWith(file + ": tensor names mix the single-file layout", e.Message);
    }

    [Fact]
    public void Language_models_keep_their_anatomy()
    {
        var a = ModelAnatomy.Of("LlamaForCausalLM", ["model.layers.0.mlp.up_proj.weight", "model.embed_tokens.weight"]);
        Assert.False(a.IsDiffusion);
        Assert.Equal(TensorPlace.OfLayer(0, TensorPart.Mlp), a.Place("model.layers.0.mlp.up_proj.weight"));
    }

    [Fact]
    public void Groups_split_unet_blocks_into_attention_and_everything_else()
    {
        var attention = new TensorGroup("attn", 0, 18, [GroupPart.Attention]);
        var rest = new TensorGroup("conv", 0, 18, [GroupPart.Mlp]);
        var a = ModelAnatomy.Of(null, ["down_blocks.1.attentions.0.proj_in.weight", "down_blocks.2.resnets.0.conv1.weight"]);
        Assert.True(attention.Contains(a.Place("down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q.weight")));
        Assert.False(rest.Contains(a.Place("down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q.weight")));
        Assert.True(rest.Contains(a.Place("down_blocks.1.attentions.0.proj_in.weight")));
        Assert.True(rest.Contains(a.Place("conv_in.weight")));
    }
}
