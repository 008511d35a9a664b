using System.Text.Json.Nodes;
using EvoMerge.Lora;
using EvoMerge.Tests.Merge;

namespace EvoMerge.Tests.Lora;

/// <summary>
/// LoRAs that cannot be folded: each a one-line error naming the recipe line, the LoRA file and what was expected,
/// before any tensor is written. LoRA modules that match nothing while others do are a warning, an error under strict.
/// </summary>
public sealed class LoraBadInputTests : IDisposable
{
    readonly RecipeRunner _run = new();
    readonly Random _rng = new(3);

    public LoraBadInputTests() => TestModels.Write(_run.Root, "base", 1);

    public void Dispose() => _run.Dispose();

    string Kohya(string name, params (string Module, long[] Down, long[] Up, float? Alpha)[] modules)
    {
        var tensors = new List<(string, long[], float[])>();
        foreach (var (module, down, up, alpha) in modules)
        {
            tensors.Add((module + ".lora_down.weight", down, LoraFiles.Gaussian(_rng, down.Aggregate(1L, (a, b) => a * b), 0.1)));
            tensors.Add((module + ".lora_up.weight", up, LoraFiles.Gaussian(_rng, up.Aggregate(1L, (a, b) => a * b), 0.1)));
            if (alpha is { } a) tensors.Add((module + ".alpha", [], [a]));
        }
        string folder = Directory.CreateDirectory(Path.Combine(_run.Root, "loras")).FullName;
        string path = Path.Combine(folder, name + ".safetensors");
        LoraFiles.WriteSafetensors(path, tensors);
        return path;
    }

    EvoMergeException Refused(string lora, string recipeSuffix = "", bool strict = false) => Assert.Throws<EvoMergeException>(() =>
    {
        _run.Plan($$"""
            merge_method: passthrough
            models:
              - model: {root}/base+{{lora}}
            dtype: float32{{recipeSuffix}}
            """ + (strict ? "\nstrict: true\n" : "")).Dispose();
    });

    static void OneLine(EvoMergeException e) => Assert.DoesNotContain('\n', e.Message);

    [Fact]
    public void A_lora_whose_keys_match_nothing_names_the_first_five()
    {
        // An SDXL UNet LoRA onto a Llama: none of its modules has a tensor.
        var modules = Enumerable.Range(0, 7).Select(i => ($"lora_unet_input_blocks_{i}_1_proj_in", new long[] { 2, 8 }, new long[] { 8, 2 }, (float?)2f)).ToArray();
        string lora = Kohya("sdxl", modules);
        var e = Refused(lora);
        OneLine(e);
        Assert.Contains("recipe.yml:3:", e.Message);
        Assert.Contains("sdxl.safetensors: none of the LoRA's 7 modules matches a tensor of model", e.Message);
        Assert.Contains("first five: lora_unet_input_blocks_0_1_proj_in, lora_unet_input_blocks_1_1_proj_in, lora_unet_input_blocks_2_1_proj_in, lora_unet_input_blocks_3_1_proj_in, lora_unet_input_blocks_4_1_proj_in, ...", e.Message);
        Assert.DoesNotContain("input_blocks_5", e.Message);
    }

    [Fact]
    public void Modules_matching_nothing_beside_ones_that_match_warn_and_strict_refuses()
    {
        string lora = Kohya("partial",
            ("lora_te_model_layers_0_self_attn_q_proj", [2, 8], [8, 2], 2f),
            ("lora_te_model_layers_9_self_attn_q_proj", [2, 8], [8, 2], 2f));
        using (var planned = _run.Plan($"""
            merge_method: passthrough
            models:
              - model: {"{root}"}/base+{lora}
            """))
            Assert.Contains(planned.Warnings, w => w.Contains("1 of the LoRA's 2 modules match no tensor") && w.Contains("lora_te_model_layers_9_self_attn_q_proj"));
        var e = Refused(lora, strict: true);
        Assert.Contains("strict: warnings are errors", e.Message);
    }

    [Fact]
    public void A_lora_for_another_base_names_the_tensor_and_both_shapes()
    {
        // Trained on a model of width 16: its q_proj update is [16, 16], the base's q_proj is [8, 8].
        string lora = Kohya("wide", ("lora_te_model_layers_0_self_attn_q_proj", [4, 16], [16, 4], 4f));
        var e = Refused(lora);
        OneLine(e);
        Assert.Contains("wide.safetensors: module 'lora_te_model_layers_0_self_attn_q_proj' makes a [16, 16] update but tensor 'model.layers.0.self_attn.q_proj.weight' of model", e.Message);
        Assert.Contains("is [8, 8]; is the LoRA for another base model?", e.Message);

        string adapter = LoraFiles.WritePeft(Path.Combine(_run.Root, "wide-peft"), new JsonObject { ["peft_type"] = "LORA", ["r"] = 2, ["lora_alpha"] = 2 },
            [("base_model.model.model.layers.1.mlp.up_proj.lora_A.weight", [2, 16], new float[32]), ("base_model.model.model.layers.1.mlp.up_proj.lora_B.weight", [12, 2], new float[24])]);
        e = Refused(adapter);
        Assert.Contains("module 'model.layers.1.mlp.up_proj' makes a [12, 16] update but tensor 'model.layers.1.mlp.up_proj.weight'", e.Message);
        Assert.Contains("is [12, 8]", e.Message);
    }

    [Fact]
    public void A_te2_lora_for_another_width_names_the_row_block_of_the_fused_projection()
    {
        // A single-file SDXL's OpenCLIP layer of width 8 (in_proj_weight stacks q, k, v: [24, 8]); the LoRA's k_proj is 16 wide.
        string sdxl = Path.Combine(Directory.CreateDirectory(Path.Combine(_run.Root, "sdxl")).FullName, "sdxl.safetensors");
        const string fused = "conditioner.embedders.1.model.transformer.resblocks.0.attn.in_proj_weight";
        LoraFiles.WriteSafetensors(sdxl, [("model.diffusion_model.input_blocks.0.0.weight", [4, 4, 3, 3], new float[144]), (fused, [24, 8], new float[192])]);
        string lora = Kohya("te2-wide", ("lora_te2_text_model_encoder_layers_0_self_attn_k_proj", [2, 16], [16, 2], 2f));
        var e = Assert.Throws<EvoMergeException>(() => _run.Plan($"""
            merge_method: passthrough
            models:
              - model: {sdxl}+{lora}
            """).Dispose());
        OneLine(e);
        Assert.Contains($"te2-wide.safetensors: module 'lora_te2_text_model_encoder_layers_0_self_attn_k_proj' makes a [16, 16] update but row block 2 of 3 of tensor '{fused}' of model", e.Message);
        Assert.Contains("is [8, 8]; is the LoRA for another base model?", e.Message);
    }

    [Theory]
    [InlineData(-1f, "malformed alpha -1; expected a positive number")]
    [InlineData(float.NaN, "malformed alpha NaN; expected a positive number")]
    [InlineData(0f, "malformed alpha 0; expected a positive number")]
    public void A_malformed_kohya_alpha_is_refused(float alpha, string expected)
    {
        string lora = Kohya("alpha", ("lora_te_model_layers_0_self_attn_q_proj", [2, 8], [8, 2], alpha));
        var e = Refused(lora);
        OneLine(e);
        Assert.Contains("alpha.safetensors: 'lora_te_model_layers_0_self_attn_q_proj.alpha': " + expected, e.Message);
    }

    [Fact]
    public void Malformed_ranks_are_refused()
    {
        string lora = Kohya("rank", ("lora_te_model_layers_0_self_attn_q_proj", [2, 8], [8, 3], 2f));
        var e = Refused(lora);
        OneLine(e);
        Assert.Contains("rank.safetensors: module 'lora_te_model_layers_0_self_attn_q_proj': malformed rank: down/A [2, 8] has rank 2 but up/B is [8, 3]", e.Message);

        JsonObject Config(JsonNode r) => new() { ["peft_type"] = "LORA", ["r"] = r, ["lora_alpha"] = 4 };
        (string, long[], float[])[] Factors(int rank) =>
            [("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", [rank, 8], new float[rank * 8]),
             ("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", [8, rank], new float[rank * 8])];
        e = Refused(LoraFiles.WritePeft(Path.Combine(_run.Root, "r-disagrees"), Config(4), Factors(2)));
        Assert.Contains("adapter_config.json: malformed rank: r says 4 for module 'model.layers.0.self_attn.q_proj' but its lora_A is [2, 8]", e.Message);
        e = Refused(LoraFiles.WritePeft(Path.Combine(_run.Root, "r-zero"), Config(0), Factors(2)));
        Assert.Contains("adapter_config.json: r: malformed rank 0; expected a whole number of at least 1", e.Message);
        e = Refused(LoraFiles.WritePeft(Path.Combine(_run.Root, "r-text"), Config("eight"), Factors(2)));
        Assert.Contains("r: malformed rank \"eight\"", e.Message);
    }

    [Fact]
    public void Lone_factors_unknown_formats_and_bad_references_are_refused()
    {
        string lone = Path.Combine(_run.Root, "loras", "lone.safetensors");
        Directory.CreateDirectory(Path.GetDirectoryName(lone)!);
        LoraFiles.WriteSafetensors(lone, [("lora_te_model_layers_0_self_attn_q_proj.lora_down.weight", [2, 8], new float[16])]);
        Assert.Contains("lone.safetensors: module 'lora_te_model_layers_0_self_attn_q_proj' has a down (A) factor", Refused(lone).Message);

        string loha = Path.Combine(_run.Root, "loras", "loha.safetensors");
        LoraFiles.WriteSafetensors(loha, [("lora_unet_x.hada_w1_a", [2, 8], new float[16])]);
        Assert.Contains("a LyCORIS LoHa factor is not supported", Refused(loha).Message);

        var e = Assert.Throws<EvoMergeException>(() => _run.Plan("""
            merge_method: passthrough
            models:
              - model: {root}/base+{root}/a+{root}/b
            """).Dispose());
        Assert.Contains("recipe.yml:3:", e.Message);
        Assert.Contains("expected model+lora (one '+'", e.Message);

        e = Assert.Throws<EvoMergeException>(() => _run.Plan("""
            merge_method: passthrough
            models:
              - model: {root}/base
            loras:
              - {path: {root}/nowhere, strenght: 2}
            """).Dispose());
        Assert.Contains("recipe.yml:5:", e.Message);
        Assert.Contains("unknown field 'strenght' (did you mean 'strength'?)", e.Message);
    }

    [Fact]
    public void Evolve_configs_take_model_plus_lora_and_refuse_a_malformed_reference()
    {
        string ok = Tests.Evolution.EvolutionConfigReaderTests.Example.Replace("./models/math-en", "./models/math-en+./loras/style");
        var config = EvoMerge.Evolution.Config.EvolutionConfigReader.Parse(ok, "evolve.yml", "/runs/here");
        Assert.Contains("/runs/here/models/math-en+/runs/here/loras/style", config.Models.Select(config.ResolveModel));
        string bad = Tests.Evolution.EvolutionConfigReaderTests.Example.Replace("./models/math-en", "./models/math-en+./a+./b");
        var e = Assert.Throws<EvoMergeException>(() => EvoMerge.Evolution.Config.EvolutionConfigReader.Parse(bad, "evolve.yml", "/runs/here"));
        Assert.StartsWith("evolve.yml: './models/math-en+./a+./b': expected model+lora (one '+'", e.Message);
    }

    [Theory]
    [InlineData("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", "model.layers.0.self_attn.q_proj", PeftFormat.Part.A)]
    [InlineData("base_model.model.model.layers.0.self_attn.q_proj.lora_B.default.weight", "model.layers.0.self_attn.q_proj", PeftFormat.Part.B)]
    [InlineData("unet.down_blocks.1.attentions.0.proj_in.lora_A.weight", "unet.down_blocks.1.attentions.0.proj_in", PeftFormat.Part.A)]
    [InlineData("base_model.model.model.embed_tokens.lora_embedding_A", "model.embed_tokens", PeftFormat.Part.EmbeddingA)]
    [InlineData("base_model.model.model.embed_tokens.lora_embedding_B.default", "model.embed_tokens", PeftFormat.Part.EmbeddingB)]
    [InlineData("base_model.model.lm_head.weight", "lm_head.weight", PeftFormat.Part.None)]
    [InlineData("base_model.model.model.layers.0.self_attn.q_proj.lora_B.bias", "model.layers.0.self_attn.q_proj.lora_B.bias", PeftFormat.Part.None)]
    public void Peft_keys_split_into_module_and_factor(string key, string module, PeftFormat.Part part) =>
        Assert.Equal((module, part), PeftFormat.Parse(key));

    [Fact]
    public void A_lora_bias_is_refused_by_name()
    {
        string adapter = LoraFiles.WritePeft(Path.Combine(_run.Root, "biased"), new JsonObject { ["peft_type"] = "LORA", ["r"] = 2, ["lora_alpha"] = 2 },
            [("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", [2, 8], new float[16]),
             ("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", [8, 2], new float[16]),
             ("base_model.model.model.layers.0.self_attn.q_proj.lora_B.bias", [8], new float[8])]);
        var e = Refused(adapter);
        Assert.Contains("tensor 'base_model.model.model.layers.0.self_attn.q_proj.lora_B.bias' is a LoRA part EvoMerge does not know", e.Message);
    }
}
