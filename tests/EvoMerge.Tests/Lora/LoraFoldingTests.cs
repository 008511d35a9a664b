using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using EvoMerge.IO;
using EvoMerge.Tests.Merge;
using EvoMerge.TestSupport;
using DiffusionLabel = EvoMerge.Tests.Anatomy.DiffusionFixtures.Label;

namespace EvoMerge.Tests.Lora;

/// <summary>
/// LoRA folding checked against an independent numpy fold (Fixtures/lora/lora_fold_reference.py): a PEFT adapter on a
/// Llama-shaped model through mergekit's <c>model+lora</c>, a kohya LoRA with SDXL's real module names (the
/// Lightning-style key set of Fixtures/lora/sdxl_kohya_unet_lora_keys.txt, written by sdxl_kohya_keys.py from the UNet
/// structure) on a scaled-down single-file UNet, and the recipe's <c>loras:</c> list with strengths.
/// </summary>
public sealed class LoraFoldingTests : IDisposable
{
    static readonly string Fixtures = Path.Combine(SharedData.RepoRoot, "tests", "EvoMerge.Tests", "Fixtures", "lora");
    readonly RecipeRunner _run = new();

    public void Dispose() => _run.Dispose();

    string Root => _run.Root;

    /// <summary>The reference's verdict on <paramref name="merged"/> = <paramref name="model"/> with the LoRAs folded in.</summary>
    static JsonElement Reference(string model, string merged, params (string Lora, double Strength)[] loras) => Reference(null, model, merged, loras);

    /// <param name="unet">"sdxl" when <paramref name="model"/> is a single-file SDXL (its UNet config for the reference's walk of both namings).</param>
    static JsonElement Reference(string? unet, string model, string merged, params (string Lora, double Strength)[] loras)
    {
        string specs = string.Join(' ', loras.Select(l => $"\"{l.Lora}:{l.Strength.ToString(CultureInfo.InvariantCulture)}\""));
        string options = unet == null ? "" : $"--unet {unet} ";
        var run = PythonReference.Run($"\"{Path.Combine(Fixtures, "lora_fold_reference.py")}\" {options}\"{model}\" \"{merged}\" {specs}", TimeSpan.FromMinutes(3));
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        return JsonDocument.Parse(run.Stdout).RootElement;
    }

    static void AssertFolded(JsonElement reference, int changed, double tolerance = 2e-5)
    {
        Assert.Equal(changed, reference.GetProperty("changed").GetInt32());
        Assert.True(reference.GetProperty("max_change").GetDouble() > 100 * tolerance, "the LoRA changes the weights visibly");
        Assert.True(reference.GetProperty("max_diff").GetDouble() < tolerance, $"largest difference to the numpy fold: {reference.GetProperty("max_diff").GetDouble()} in {reference.GetProperty("worst").GetString()}");
    }

    /// <summary>
    /// A PEFT adapter on the 4-layer test Llama: q_proj at r = 2, k_proj at rank_pattern 3, up_proj at alpha_pattern 5,
    /// an embedding LoRA (lora_embedding_A/B) and lm_head kept whole (modules_to_save).
    /// </summary>
    string Peft(string name, bool rsLora, int seed, int hidden = TestModels.Hidden)
    {
        var rng = new Random(seed);
        var tensors = new List<(string, long[], float[])>();
        void Factors(string module, int rows, int cols, int rank)
        {
            tensors.Add(($"base_model.model.{module}.lora_A.weight", [rank, cols], LoraFiles.Gaussian(rng, rank * cols, 0.3)));
            tensors.Add(($"base_model.model.{module}.lora_B.weight", [rows, rank], LoraFiles.Gaussian(rng, rows * rank, 0.3)));
        }
        for (int layer = 0; layer < 4; layer++)
        {
            Factors($"model.layers.{layer}.self_attn.q_proj", hidden, hidden, 2);
            Factors($"model.layers.{layer}.self_attn.k_proj", hidden / 2, hidden, 3);
            Factors($"model.layers.{layer}.mlp.up_proj", TestModels.Intermediate, hidden, 2);
        }
        tensors.Add(("base_model.model.model.embed_tokens.lora_embedding_A", [2, 32], LoraFiles.Gaussian(rng, 64, 0.3)));
        tensors.Add(("base_model.model.model.embed_tokens.lora_embedding_B", [hidden, 2], LoraFiles.Gaussian(rng, hidden * 2, 0.3)));
        tensors.Add(("base_model.model.lm_head.weight", [32, hidden], LoraFiles.Gaussian(rng, 32 * hidden, 1)));
        var config = new JsonObject
        {
            ["peft_type"] = "LORA", ["r"] = 2, ["lora_alpha"] = 3, ["use_rslora"] = rsLora,
            ["target_modules"] = new JsonArray("q_proj", "k_proj", "up_proj", "embed_tokens"),
            ["rank_pattern"] = new JsonObject { ["k_proj"] = 3 },
            ["alpha_pattern"] = new JsonObject { ["up_proj"] = 5 },
            ["modules_to_save"] = new JsonArray("lm_head"),
        };
        return LoraFiles.WritePeft(Path.Combine(Root, name), config, tensors);
    }

    [PythonReferenceTheory("numpy")]
    [InlineData(false, null)]
    [InlineData(true, null)]
    [InlineData(false, 100)]   // tensors read in blocks of rows: the factors are folded range by range
    public void Peft_adapter_through_model_plus_lora_matches_the_numpy_fold(bool rsLora, int? blockElements)
    {
        var baseModel = TestModels.Write(Root, "base", 1);
        string adapter = Peft("adapter", rsLora, 7);
        // mergekit's abliteration recipes: task arithmetic of the base and base+lora at weight 1 is the folded model.
        string merged = _run.Merge("""
            merge_method: task_arithmetic
            base_model: {root}/base
            models:
              - model: {root}/base+{root}/adapter
                parameters:
                  weight: 1.0
            dtype: float32
            """, blockElements: blockElements);
        AssertFolded(Reference(baseModel.Path, merged, (adapter, 1)), changed: 14);
    }

    /// <summary>Real SDXL dimensions over 64 (320 → 5, 2048 → 32, ...); kernel sizes and the 4 latent channels stay.</summary>
    static long[] Tiny(string shape) => shape.Split(',').Select(long.Parse).Select(d => d >= 64 ? d / 64 : d).ToArray();

    [PythonReferenceFact("numpy")]
    public void Kohya_sdxl_lora_with_the_lightning_style_key_set_matches_the_numpy_fold()
    {
        var lines = File.ReadAllLines(Path.Combine(Fixtures, "sdxl_kohya_unet_lora_keys.txt")).Select(l => l.Split(' ')).ToList();
        var rng = new Random(5);
        var unet = lines.Where(l => l[0] == "tensor").Select(l => (l[1], Tiny(l[2]), LoraFiles.Gaussian(rng, TensorInfo.ElementCountOf(Tiny(l[2])), 0.5))).ToList();
        string unetFile = Path.Combine(Directory.CreateDirectory(Path.Combine(Root, "unet")).FullName, "sdxl-unet.safetensors");
        LoraFiles.WriteSafetensors(unetFile, unet);
        const int rank = 4;
        var lora = new List<(string, long[], float[])>();
        int i = 0;
        foreach (var l in lines.Where(l => l[0] != "tensor"))
        {
            var w = Tiny(l[2]);
            long[] down = w.Length == 4 ? [rank, w[1], w[2], w[3]] : [rank, w[1]];
            long[] up = w.Length == 4 ? [w[0], rank, 1, 1] : [w[0], rank];
            lora.Add((l[0] + ".lora_down.weight", down, LoraFiles.Gaussian(rng, TensorInfo.ElementCountOf(down), 0.5)));
            lora.Add((l[0] + ".lora_up.weight", up, LoraFiles.Gaussian(rng, TensorInfo.ElementCountOf(up), 0.5)));
            lora.Add((l[0] + ".alpha", [], [1 + i++ % 8]));   // kohya stores alpha as a 0-d tensor
        }
        string loraFile = Path.Combine(Directory.CreateDirectory(Path.Combine(Root, "lora")).FullName, "lightning-style.safetensors");
        LoraFiles.WriteSafetensors(loraFile, lora, DType.F16);

        using (var planned = _run.Plan($"""
            merge_method: passthrough
            models:
              - model: {unetFile}+{loraFile}
            dtype: float32
            """))
        {
            Assert.Empty(planned.Warnings);
            Assert.Contains(planned.Notes, n => n.Contains("kohya") && n.Contains("788 tensors"));
        }
        var before = new[] { unetFile, loraFile }.Select(f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f)))).ToList();
        string merged = _run.Merge($"""
            merge_method: passthrough
            models:
              - model: {unetFile}+{loraFile}
            dtype: float32
            """);
        AssertFolded(Reference(unetFile, merged, (loraFile, 1)), changed: 788);
        // Folding happens on read: the model and the LoRA are never written.
        Assert.Equal(before, new[] { unetFile, loraFile }.Select(f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f)))));
    }

    /// <summary>
    /// A kohya LoRA of all three SDXL components onto a diffusers pipeline folder (DiffusionFixtures: SDXL-base's real
    /// names, tiny widths): <c>lora_te1_</c> and <c>lora_te2_</c> keys name the same path in text_encoder/ and
    /// text_encoder_2/, and UNet keys in diffusers naming (<c>lora_unet_down_blocks_…</c>) address unet/.
    /// </summary>
    [PythonReferenceFact("numpy")]
    public void Kohya_lora_of_unet_and_both_text_encoders_folds_into_a_pipeline_folder()
    {
        string sdxl = Anatomy.DiffusionFixtures.Write(Root, 4);
        string pipeline = Path.Combine(sdxl, "pipeline");
        var rng = new Random(9);
        var lora = new List<(string, long[], float[])>();
        var component = new Dictionary<string, string> { ["unet"] = "unet", ["text_encoder"] = "te1", ["text_encoder_2"] = "te2" };
        foreach (var t in Anatomy.DiffusionFixtures.Labels(sdxl).Pipeline)
        {
            bool targeted = t.Name.EndsWith(".weight") && (t.Shape.Length == 4 || t.Shape.Length == 2)
                && (t.Name.Contains(".attentions.") || t.Name.Contains(".resnets.") || t.Name.Contains(".encoder.layers."));
            if (!targeted || !component.TryGetValue(t.Component, out var prefix)) continue;
            string module = $"lora_{prefix}_" + t.Name[(t.Component.Length + 1)..^".weight".Length].Replace('.', '_');
            long[] down = [2, .. t.Shape.AsSpan(1)], up = t.Shape.Length == 4 ? [t.Shape[0], 2, 1, 1] : [t.Shape[0], 2];
            lora.Add((module + ".lora_down.weight", down, LoraFiles.Gaussian(rng, TensorInfo.ElementCountOf(down), 0.5)));
            lora.Add((module + ".lora_up.weight", up, LoraFiles.Gaussian(rng, TensorInfo.ElementCountOf(up), 0.5)));
            lora.Add((module + ".alpha", [], [1]));
        }
        int modules = lora.Count / 3;
        Assert.Contains(lora, l => l.Item1.StartsWith("lora_te2_text_model_encoder_layers_31_"));
        string loraFile = Path.Combine(Directory.CreateDirectory(Path.Combine(Root, "lora")).FullName, "sdxl-all.safetensors");
        LoraFiles.WriteSafetensors(loraFile, lora);
        string merged = _run.Merge($"""
            merge_method: linear
            models:
              - model: {pipeline}+{loraFile}
                parameters: {"{"}weight: 1{"}"}
            dtype: float32
            """);
        AssertFolded(Reference(pipeline, merged, (loraFile, 1)), changed: modules);
    }

    /// <summary>kohya factors (rank 2, alphas 1…4) for <paramref name="modules"/>: (kohya module, weight shape).</summary>
    static List<(string, long[], float[])> KohyaFactors(IEnumerable<(string Module, long[] Shape)> modules, int seed)
    {
        var rng = new Random(seed);
        var lora = new List<(string, long[], float[])>();
        int i = 0;
        foreach (var (module, shape) in modules)
        {
            long[] down = [2, .. shape.AsSpan(1)], up = shape.Length == 4 ? [shape[0], 2, 1, 1] : [shape[0], 2];
            lora.Add((module + ".lora_down.weight", down, LoraFiles.Gaussian(rng, TensorInfo.ElementCountOf(down), 0.5)));
            lora.Add((module + ".lora_up.weight", up, LoraFiles.Gaussian(rng, TensorInfo.ElementCountOf(up), 0.5)));
            lora.Add((module + ".alpha", [], [1 + i++ % 4]));
        }
        return lora;
    }

    static string Kohya(string component, string inner) => $"lora_{component}_" + inner[..^".weight".Length].Replace('.', '_');

    static bool Factored(DiffusionLabel t) => t.Name.EndsWith(".weight") && t.Shape.Length is 2 or 4;

    /// <summary>
    /// sd-scripts' SDXL LoRA names the UNet's modules as the single file does (<c>lora_unet_input_blocks_4_1_…</c>,
    /// <c>…_middle_block_1_…</c>, <c>…_output_blocks_2_2_conv</c>, resnets' <c>in_layers_2</c>, <c>emb_layers_1</c>,
    /// <c>skip_connection</c>, downsamplers' <c>op</c>): every 2-D and 4-D weight of SDXL's UNet in that naming, with
    /// the text encoders' CLIP names, folds into a diffusers pipeline folder.
    /// </summary>
    [PythonReferenceFact("numpy")]
    public void Kohya_lora_in_the_single_file_unet_naming_folds_into_a_diffusers_pipeline()
    {
        string sdxl = Anatomy.DiffusionFixtures.Write(Root, 4);
        string pipeline = Path.Combine(sdxl, "pipeline");
        var (pipelineLabels, singleLabels) = Anatomy.DiffusionFixtures.Labels(sdxl);
        const string unet = "model.diffusion_model.";
        var modules = singleLabels.Where(t => t.Name.StartsWith(unet) && Factored(t)).Select(t => (Kohya("unet", t.Name[unet.Length..]), t.Shape))
            .Concat(pipelineLabels.Where(t => t.Component is "text_encoder" or "text_encoder_2" && Factored(t) && t.Name.Contains(".encoder.layers."))
                .Select(t => (Kohya(t.Component == "text_encoder" ? "te1" : "te2", t.Name[(t.Component.Length + 1)..]), t.Shape)))
            .ToList();
        Assert.Contains(modules, m => m.Item1 == "lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q");
        Assert.Contains(modules, m => m.Item1 == "lora_unet_output_blocks_2_2_conv");
        Assert.Contains(modules, m => m.Item1 == "lora_unet_input_blocks_3_0_op");
        string loraFile = Path.Combine(Directory.CreateDirectory(Path.Combine(Root, "lora")).FullName, "sd-scripts-sdxl.safetensors");
        LoraFiles.WriteSafetensors(loraFile, KohyaFactors(modules, 21));
        string recipe = $"""
            merge_method: passthrough
            models:
              - model: {pipeline}+{loraFile}
            dtype: float32
            """;
        using (var planned = _run.Plan(recipe))
            Assert.Empty(planned.Warnings);     // every module found its tensor
        string merged = _run.Merge(recipe);
        AssertFolded(Reference(pipeline, merged, (loraFile, 1)), changed: modules.Count);
    }

    /// <summary>
    /// The reverse, with SDXL's second text encoder: a kohya LoRA in diffusers' UNet naming (<c>lora_unet_down_blocks_…</c>,
    /// what SD 1.x trainers and diffusers' kohya export write) and CLIP names for both text encoders folds into a
    /// single-file SDXL. <c>lora_te1_</c> lands on <c>conditioner.embedders.0.transformer.text_model.…</c>; <c>lora_te2_</c>'s
    /// q/k/v projections land on the right third of OpenCLIP's fused <c>attn.in_proj_weight</c>, out_proj, fc1 and fc2
    /// on <c>attn.out_proj</c>, <c>mlp.c_fc</c>, <c>mlp.c_proj</c>.
    /// </summary>
    [PythonReferenceFact("numpy")]
    public void Kohya_lora_in_diffusers_naming_with_both_text_encoders_folds_into_a_single_file_sdxl()
    {
        string sdxl = Anatomy.DiffusionFixtures.Write(Root, 6);
        string single = Path.Combine(sdxl, "sdxl.safetensors");
        var (pipelineLabels, _) = Anatomy.DiffusionFixtures.Labels(sdxl);
        var modules = pipelineLabels.Where(t => Factored(t) && (t.Component == "unet" || t.Name.Contains(".encoder.layers.") && t.Component != "vae"))
            .Select(t => (Kohya(t.Component switch { "unet" => "unet", "text_encoder" => "te1", _ => "te2" }, t.Name[(t.Component.Length + 1)..]), t.Shape))
            .ToList();
        int fused = modules.Count(m => m.Item1.StartsWith("lora_te2_") && (m.Item1.EndsWith("_q_proj") || m.Item1.EndsWith("_k_proj") || m.Item1.EndsWith("_v_proj")));
        Assert.Equal(3 * 32, fused);            // bigG's 32 layers
        Assert.Contains(modules, m => m.Item1 == "lora_unet_up_blocks_0_upsamplers_0_conv");
        Assert.Contains(modules, m => m.Item1 == "lora_unet_mid_block_resnets_1_time_emb_proj");
        string loraFile = Path.Combine(Directory.CreateDirectory(Path.Combine(Root, "lora")).FullName, "diffusers-named.safetensors");
        LoraFiles.WriteSafetensors(loraFile, KohyaFactors(modules, 23));
        // The recipe's loras: list, at a strength: folded into the output on its way to the file.
        string recipe = $"""
            merge_method: passthrough
            models:
              - model: {single}
            dtype: float32
            loras:
              - {"{"}path: {loraFile}, strength: 0.7{"}"}
            """;
        using (var planned = _run.Plan(recipe))
            Assert.Empty(planned.Warnings);
        string merged = _run.Merge(recipe);
        // q, k and v of one layer change one fused tensor.
        AssertFolded(Reference("sdxl", single, merged, (loraFile, 0.7)), changed: modules.Count - fused + fused / 3);
    }

    /// <summary>A later stage of a multi-stage recipe takes an earlier stage with a LoRA folded in (<c>blend+adapter</c>).</summary>
    [PythonReferenceFact("numpy")]
    public void A_stage_plus_lora_folds_into_the_earlier_stage_output()
    {
        TestModels.Write(Root, "a", 1);
        TestModels.Write(Root, "b", 2);
        string adapter = Peft("adapter", rsLora: false, 13);
        string path = Path.Combine(Root, "multi.yml");
        File.WriteAllText(path, """
            name: final
            merge_method: passthrough
            models:
              - model: blend+{root}/adapter
            dtype: float32
            ---
            name: blend
            merge_method: linear
            models:
              - model: {root}/a
                parameters: {weight: 0.4}
              - model: {root}/b
                parameters: {weight: 0.6}
            dtype: float32
            """.Replace("{root}", Root));
        var outcomes = EvoMerge.Merge.MultiStage.MultiStageRunner.Run(EvoMerge.Merge.MultiStage.MultiStageRecipe.Load(path), Path.Combine(Root, "out"),
            Path.Combine(Root, "stages"), null, false, new EvoMerge.Merge.Execution.MergeOptions { Threads = 2 });
        Assert.Equal(["blend", "final"], outcomes.Select(o => o.Stage.Name));
        AssertFolded(Reference(Path.Combine(Root, "stages", "blend"), Path.Combine(Root, "out"), (adapter, 1)), changed: 14);
    }

    [PythonReferenceFact("numpy")]
    public void Recipe_loras_fold_into_the_merged_result_with_their_strengths()
    {
        TestModels.Write(Root, "a", 1);
        TestModels.Write(Root, "b", 2);
        string first = Peft("first", rsLora: false, 11), second = Peft("second", rsLora: true, 12);
        const string linear = """
            merge_method: linear
            models:
              - model: {root}/a
                parameters: {weight: 0.25}
              - model: {root}/b
                parameters: {weight: 0.75}
            dtype: float32
            """;
        string plain = _run.Merge(linear, "plain");
        string withLoras = _run.Merge(linear + """

            loras:
              - {path: {root}/first, strength: 0.8}
              - path: {root}/second
                strength: -0.5
            """, "with-loras");
        AssertFolded(Reference(plain, withLoras, (first, 0.8), (second, -0.5)), changed: 14);
    }
}
