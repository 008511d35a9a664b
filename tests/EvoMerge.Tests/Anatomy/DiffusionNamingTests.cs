using System.Text.Json;
using EvoMerge.Anatomy;
using EvoMerge.TestSupport;

namespace EvoMerge.Tests.Anatomy;

/// <summary>
/// The UNet's two namings (<see cref="ModelAnatomy.OtherNamings"/>) against Fixtures/diffusion/unet_namings.py, which
/// walks SD 1.5's, SD 2.1's and SDXL-base's UNet structures once per naming in the same module order: the i-th LDM
/// name and the i-th diffusers name are the same tensor, with no rename table on the Python side. Every tensor must
/// map onto its partner, both ways, in every layout that holds a UNet.
/// </summary>
public sealed class DiffusionNamingTests
{
    static readonly Lazy<Dictionary<string, List<(string Ldm, string Diffusers)>>> Walks = new(() =>
    {
        string script = Path.Combine(AppContext.BaseDirectory, "Fixtures", "diffusion", "unet_namings.py");
        var (code, stdout, stderr) = PythonReference.Run($"\"{script}\"", TimeSpan.FromMinutes(2));
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        return doc.RootElement.EnumerateObject().ToDictionary(m => m.Name,
            m => m.Value.EnumerateArray().Select(p => (p[0].GetString()!, p[1].GetString()!)).ToList());
    });

    static void AssertMapsOnto(ModelAnatomy anatomy, string prefix, IEnumerable<(string From, string To)> pairs)
    {
        int n = 0;
        foreach (var (from, to) in pairs)
        {
            var aliases = anatomy.OtherNamings(prefix + from);
            Assert.True(aliases.Count == 1 && aliases[0] == new TensorAlias(to), $"{prefix}{from}: expected {to}, got [{string.Join(", ", aliases)}]");
            n++;
        }
        Assert.True(n > 600);
    }

    [PythonReferenceTheory("json")]
    [InlineData("sd15", 686)]
    [InlineData("sd21", 686)]
    [InlineData("sdxl", 1680)]
    public void Every_unet_tensor_maps_onto_its_partner_in_the_other_naming_both_ways(string model, int tensors)
    {
        var pairs = Walks.Value[model];
        Assert.Equal(tensors, pairs.Count);
        // Single file (LDM names) → diffusers.
        var single = ModelAnatomy.Of(null, pairs.Select(p => "model.diffusion_model." + p.Ldm));
        Assert.Equal(DiffusionLayout.SingleFile, single.Diffusion);
        AssertMapsOnto(single, "model.diffusion_model.", pairs);
        // Bare diffusers UNet and a pipeline's unet/ → LDM.
        var bare = ModelAnatomy.Of(null, pairs.Select(p => p.Diffusers));
        Assert.Equal(DiffusionLayout.DiffusersUnet, bare.Diffusion);
        AssertMapsOnto(bare, "", pairs.Select(p => (p.Diffusers, p.Ldm)));
        var pipeline = ModelAnatomy.Of(null, pairs.Select(p => "unet." + p.Diffusers).Append("vae.decoder.conv_out.weight"));
        Assert.Equal(DiffusionLayout.Pipeline, pipeline.Diffusion);
        AssertMapsOnto(pipeline, "unet.", pairs.Select(p => (p.Diffusers, p.Ldm)));
        Assert.Empty(pipeline.OtherNamings("vae.decoder.conv_out.weight"));   // the VAE is not renamed
    }

    [Fact]
    public void Openclip_text_tower_answers_to_clip_names_with_the_fused_projection_in_three_row_blocks()
    {
        string[] names =
        [
            "model.diffusion_model.input_blocks.0.0.weight", "model.diffusion_model.out.2.weight",
            "conditioner.embedders.0.transformer.text_model.encoder.layers.0.self_attn.q_proj.weight",
            "conditioner.embedders.1.model.transformer.resblocks.7.attn.in_proj_weight",
            "conditioner.embedders.1.model.transformer.resblocks.7.attn.in_proj_bias",
            "conditioner.embedders.1.model.transformer.resblocks.7.attn.out_proj.weight",
            "conditioner.embedders.1.model.transformer.resblocks.7.mlp.c_fc.bias",
            "conditioner.embedders.1.model.transformer.resblocks.7.mlp.c_proj.weight",
            "conditioner.embedders.1.model.transformer.resblocks.7.ln_2.weight",
            "conditioner.embedders.1.model.ln_final.bias", "conditioner.embedders.1.model.positional_embedding",
            "conditioner.embedders.1.model.text_projection", "first_stage_model.decoder.conv_out.weight",
        ];
        var a = ModelAnatomy.Of(null, names);
        const string layer = "text_model.encoder.layers.7.";
        Assert.Equal([new(layer + "self_attn.q_proj.weight", 0, 3), new(layer + "self_attn.k_proj.weight", 1, 3), new(layer + "self_attn.v_proj.weight", 2, 3)],
            a.OtherNamings("conditioner.embedders.1.model.transformer.resblocks.7.attn.in_proj_weight"));
        Assert.Equal(new TensorAlias(layer + "self_attn.v_proj.bias", 2, 3), a.OtherNamings("conditioner.embedders.1.model.transformer.resblocks.7.attn.in_proj_bias")[2]);
        Assert.Equal([new TensorAlias(layer + "self_attn.out_proj.weight")], a.OtherNamings("conditioner.embedders.1.model.transformer.resblocks.7.attn.out_proj.weight"));
        Assert.Equal([new TensorAlias(layer + "mlp.fc1.bias")], a.OtherNamings("conditioner.embedders.1.model.transformer.resblocks.7.mlp.c_fc.bias"));
        Assert.Equal([new TensorAlias(layer + "mlp.fc2.weight")], a.OtherNamings("conditioner.embedders.1.model.transformer.resblocks.7.mlp.c_proj.weight"));
        Assert.Equal([new TensorAlias(layer + "layer_norm2.weight")], a.OtherNamings("conditioner.embedders.1.model.transformer.resblocks.7.ln_2.weight"));
        Assert.Equal([new TensorAlias("text_model.final_layer_norm.bias")], a.OtherNamings("conditioner.embedders.1.model.ln_final.bias"));
        Assert.Equal([new TensorAlias("text_model.embeddings.position_embedding.weight")], a.OtherNamings("conditioner.embedders.1.model.positional_embedding"));
        Assert.Empty(a.OtherNamings("conditioner.embedders.1.model.text_projection"));   // stored transposed: not the same tensor
        Assert.Empty(a.OtherNamings("conditioner.embedders.0.transformer.text_model.encoder.layers.0.self_attn.q_proj.weight"));
        Assert.Empty(a.OtherNamings("first_stage_model.decoder.conv_out.weight"));
        Assert.Empty(ModelAnatomy.For("LlamaForCausalLM").OtherNamings("model.layers.0.self_attn.q_proj.weight"));
    }
}
