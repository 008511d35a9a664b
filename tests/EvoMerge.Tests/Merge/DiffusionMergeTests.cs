using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using EvoMerge.Candidates;
using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.Spaces;
using EvoMerge.IO;
using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Methods;
using EvoMerge.Merge.Recipes;
using EvoMerge.TestSupport;
using EvoMerge.Tests.Anatomy;

namespace EvoMerge.Tests.Merge;

[CollectionDefinition("sdxl")]
public sealed class SdxlCollection : ICollectionFixture<SdxlSources>;

/// <summary>Three tiny SDXL-base checkpoints (seeds 1–3) in both layouts, written once for the test collection.</summary>
public sealed class SdxlSources : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("evomerge-sdxl-").FullName;

    public IReadOnlyList<string> Folders { get; }

    public SdxlSources() =>
        Folders = PythonReference.Has("numpy") ? [.. Enumerable.Range(1, 3).Select(seed => DiffusionFixtures.Write(Root, seed))] : [];

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

/// <summary>
/// Block-weighted merges of SDXL checkpoints against diffusion_reference.py's numpy float64 merge, which weights
/// each tensor by the block and part its own walk of the architecture gives it; the merged pipeline read back by
/// the script's minimal diffusers-format loader (python3-torch), not by EvoMerge.
/// </summary>
[Collection("sdxl")]
public sealed class DiffusionMergeTests(SdxlSources sources) : IDisposable
{
    readonly RecipeRunner _run = new();

    public void Dispose() => _run.Dispose();

    // Per source: attention gradient over the 19 blocks, convolution gradient (5 points, interpolated), outside weight.
    static readonly double[][] Attention = [.. Enumerable.Range(0, 3).Select(s => Enumerable.Range(0, 19).Select(b => 0.1 + ((b * (s + 2)) % 7) / 10.0).ToArray())];
    static readonly double[][] Convolution = [[0.2, 0.9, 0.4, 0.6, 1], [1, 0.3, 0.3, 0.8, 0.1], [0.5, 0.5, 0.1, 0.2, 0.7]];
    static readonly double[] Outside = [0.2, 0.5, 0.3];

    static string List(IEnumerable<double> values) => "[" + string.Join(", ", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]";

    /// <summary>The same weights written with name filters (<paramref name="byPlace"/> false) or with the anatomy's place filters.</summary>
    string Recipe(Func<string, string> checkpoint, string components, bool byPlace) =>
        "merge_method: linear\nmodels:\n" + string.Concat(Enumerable.Range(0, 3).Select(s => byPlace ? $"""
          - model: {checkpoint(sources.Folders[s])}
            parameters:
              weight:
                - filter: "part:attention"
                  value: {List(Attention[s])}
                - filter: "layers:0-18"
                  value: {List(Convolution[s])}
                - value: {Outside[s].ToString(CultureInfo.InvariantCulture)}

        """ : $"""
          - model: {checkpoint(sources.Folders[s])}
            parameters:
              weight:
                - filter: "re:^(text_encoder|text_encoder_2|vae|cond_stage_model|conditioner|first_stage_model)\\."
                  value: {Outside[s].ToString(CultureInfo.InvariantCulture)}
                - filter: "re:\\.to_(q|k|v|out\\.0)\\."
                  value: {List(Attention[s])}
                - value: {List(Convolution[s])}

        """)) + components;

    Dictionary<string, double[]> Reference(string layout, string[] merged, double[][] attention, double[][] convolution, double[] outside)
    {
        var spec = new JsonObject
        {
            ["layout"] = layout, ["blocks"] = 19,
            ["sources"] = new JsonArray([.. sources.Folders.Select(f => (JsonNode)f)]),
            ["merged"] = new JsonArray([.. merged.Select(m => (JsonNode)m)]),
            ["weights"] = new JsonArray([.. Enumerable.Range(0, 3).Select(s => (JsonNode)new JsonObject
            {
                ["attn"] = new JsonArray([.. attention[s].Select(v => (JsonNode)v)]),
                ["conv"] = new JsonArray([.. convolution[s].Select(v => (JsonNode)v)]),
                ["outside"] = outside[s],
            })]),
        };
        string specPath = Path.Combine(_run.Root, $"spec-{layout}.json"), outPath = Path.Combine(_run.Root, $"reference-{layout}.json");
        File.WriteAllText(specPath, spec.ToJsonString());
        var (code, _, stderr) = PythonReference.Run($"{DiffusionFixtures.Script} merge {specPath} {outPath}", TimeSpan.FromMinutes(3));
        Assert.True(code == 0, stderr);
        return JsonSerializer.Deserialize<Dictionary<string, double[]>>(File.ReadAllText(outPath))!;
    }

    static void AssertClose(Dictionary<string, double[]> expected, Func<string, float[]> actual)
    {
        foreach (var (name, e) in expected)
        {
            var a = actual(name);
            Assert.Equal(e.Length, a.Length);
            for (int i = 0; i < e.Length; i++)
                Assert.True(Math.Abs(e[i] - a[i]) <= 1e-5 + 1e-5 * Math.Abs(e[i]), $"{name}[{i}]: numpy {e[i]}, EvoMerge {a[i]}");
        }
    }

    static float[] Read(SafetensorsModel model, string name)
    {
        var values = new float[model.GetInfo(name).ElementCount];
        model.ReadFloat32(name, values);
        return values;
    }

    /// <summary>The minimal loader's reading of a pipeline folder: component → tensor → values.</summary>
    static Dictionary<string, Dictionary<string, JsonElement>> Load(string folder)
    {
        var (code, stdout, stderr) = PythonReference.Run($"{DiffusionFixtures.Script} load {folder}", TimeSpan.FromMinutes(3));
        Assert.True(code == 0, stderr);
        return JsonSerializer.Deserialize<Dictionary<string, Dictionary<string, JsonElement>>>(stdout)!;
    }

    [PythonReferenceFact("torch")]
    public void A_pipeline_merge_matches_numpy_per_block_and_part_and_loads_as_a_diffusers_folder()
    {
        string output = _run.Merge(Recipe(f => Path.Combine(f, "pipeline"),
            $"components:\n  text_encoder_2: {Path.Combine(sources.Folders[1], "pipeline")}\n  vae: {Path.Combine(sources.Folders[2], "pipeline")}\n", byPlace: true));

        var loaded = Load(output);   // also checks model_index.json, configs, file names, and every name and shape against the configs
        var expected = Reference("pipeline", ["unet", "text_encoder"], Attention, Convolution, Outside);
        Assert.Equal(1680 + 196, expected.Count);
        AssertClose(expected, name =>
        {
            int dot = name.IndexOf('.');
            return loaded[name[..dot]][name[(dot + 1)..]].EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
        });
        // Taken components: byte-for-byte the named source's, as are their tokenizers.
        foreach (var (component, source) in new[] { ("text_encoder_2", 1), ("vae", 2) })
        {
            using var from = SafetensorsModel.Open(Path.Combine(sources.Folders[source], "pipeline", component));
            Assert.Equal(from.Tensors.Count, loaded[component].Count);
            foreach (var t in from.Tensors)
                Assert.Equal(Read(from, t.Name), loaded[component][t.Name].EnumerateArray().Select(v => (float)v.GetDouble()).ToArray());
        }
        Assert.Equal(1, loaded["tokenizer"]["vocab"].GetProperty("seed1").GetInt32());
        Assert.Equal(1, loaded["tokenizer_2"]["vocab"].GetProperty("seed2").GetInt32());
        Assert.Equal(1, loaded["scheduler"]["config"].GetProperty("seed").GetInt32());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(File.ReadAllText(Path.Combine(sources.Folders[0], "pipeline", "model_index.json"))),
            JsonNode.Parse(File.ReadAllText(Path.Combine(output, "model_index.json")))));
        Assert.Equal(["config.json", "diffusion_pytorch_model.safetensors"], Directory.GetFiles(Path.Combine(output, "unet")).Select(Path.GetFileName).Order());
        Assert.Contains("text_encoder_2: taken whole from", File.ReadAllText(Path.Combine(output, "README.md")));
    }

    [PythonReferenceFact("numpy")]
    public void A_single_file_merge_matches_numpy_per_block_and_part()
    {
        string output = _run.Merge(Recipe(f => Path.Combine(f, "sdxl.safetensors"),
            $"components:\n  text_encoder_2: {Path.Combine(sources.Folders[1], "sdxl.safetensors")}\n  vae: {Path.Combine(sources.Folders[2], "sdxl.safetensors")}\n", byPlace: false));
        using var merged = SafetensorsModel.Open(Path.Combine(output, "model.safetensors"));
        var expected = Reference("single", ["unet", "text_encoder"], Attention, Convolution, Outside);
        Assert.Equal(1680 + 196, expected.Count);
        AssertClose(expected, name => Read(merged, name));
        using var two = SafetensorsModel.Open(Path.Combine(sources.Folders[1], "sdxl.safetensors"));
        using var three = SafetensorsModel.Open(Path.Combine(sources.Folders[2], "sdxl.safetensors"));
        var taken = two.Tensors.Where(t => t.Name.StartsWith("conditioner.embedders.1.", StringComparison.Ordinal)).Select(t => (two, t))
            .Concat(three.Tensors.Where(t => t.Name.StartsWith("first_stage_model.", StringComparison.Ordinal)).Select(t => (three, t))).ToList();
        Assert.Equal(390 + 248, taken.Count);
        foreach (var (from, t) in taken) Assert.True(from.GetBytes(t.Name).SequenceEqual(merged.GetBytes(t.Name)), t.Name);
        Assert.Equal(expected.Count + taken.Count, merged.Tensors.Count);
    }

    /// <summary>
    /// EvoSDXL-JP's search, as one ps line: a linear merge whose UNet attention and the rest each get one coefficient
    /// per source, text encoders from one source and the VAE from another. The candidate a fitness command would
    /// score (CandidateModelWriter, through the best-recipe YAML) is a complete pipeline, checked against numpy.
    /// </summary>
    [PythonReferenceFact("torch")]
    public void An_evosdxl_jp_genome_is_one_config_line_and_its_candidate_a_pipeline()
    {
        string P(int s) => Path.Combine(sources.Folders[s], "pipeline");
        var config = EvolutionConfigReader.Parse($$"""
            name: evosdxl-jp-mini
            models: [{{P(0)}}, {{P(1)}}, {{P(2)}}]
            ps: { method: linear, parameters: [weight], split_attention_mlp: true, embeddings_group: false, components: { text_encoder: {{P(1)}}, text_encoder_2: {{P(1)}}, vae: {{P(0)}} } }
            optimizer: { name: cma-es, generations: 10 }
            fitness:
              - { task: mgsm, data: ./dev.tsv }
            """, "evolve.yml", _run.Root);
        var space = new PsSpace(config.Ps, null, config.Models, 19);
        Assert.Equal(2 * 3, space.Dimension);                    // attention and the rest, per source: EvoSDXL-JP's genome
        var build = (MergeBuild)space.Decode([0.9, 0.2, 0.5, 0.3, 0.8, 0.6]);
        string output = Path.Combine(_run.Root, "candidate");
        EvoMerge.Evolution.Output.CandidateModelWriter.Write(build, output, 19, "float32");

        var loaded = Load(output);
        double[][] Flat(int first) => [.. Enumerable.Range(0, 3).Select(m => new[] { build.Recipe.Values[first][m][0] })];
        var expected = Reference("pipeline", ["unet"], Flat(0), Flat(1), [0, 0, 0]);
        Assert.Equal([0.9, 0.2, 0.5], Flat(0).Select(v => v[0]));   // group 0 is the attention group; genome order: group, then model
        AssertClose(expected, name => loaded["unet"][name["unet.".Length..]].EnumerateArray().Select(v => (float)v.GetDouble()).ToArray());
        using var two = SafetensorsModel.Open(Path.Combine(P(1), "text_encoder"));
        foreach (var t in two.Tensors)
            Assert.Equal(Read(two, t.Name), loaded["text_encoder"][t.Name].EnumerateArray().Select(v => (float)v.GetDouble()).ToArray());
        Assert.Equal(1, loaded["tokenizer_2"]["vocab"].GetProperty("seed2").GetInt32());
        Assert.Contains("components:", File.ReadAllText(Path.Combine(output, "mergekit_config.yml")));
    }

    [PythonReferenceFact("numpy")]
    public void Ps_groups_per_block_and_part_match_numpy()
    {
        var models = sources.Folders.Select(f => ModelFolder.Open(Path.Combine(f, "pipeline"))).ToList();
        try
        {
            var space = new PsSpace(new PsConfig { Method = "linear", LayerGroups = 19, SplitAttentionMlp = true, Parameters = ["weight"] },
                null, ["a", "b", "c"], models[0].LayerCount);
            Assert.Equal((1 + 2 * 19) * 3, space.Dimension);
            var random = new Random(5);
            var genome = Enumerable.Range(0, space.Dimension).Select(_ => 0.1 + 0.8 * random.NextDouble()).ToArray();
            var recipe = ((MergeBuild)space.Decode(genome)).Recipe;
            var plan = MergePlan.ForModels(MergeMethods.Find("linear")!, null,
                [.. models.Select((m, i) => (IWeightSource)new SafetensorsWeights(m.Weights, $"m{i}"))], models[0].Anatomy);
            var target = new CollectingTarget();
            MergeExecutor.Run(plan, recipe.WithGlobals(new Dictionary<string, double>()), target, new MergeOptions { Threads = 2 });

            double Value(int model, EvoMerge.Anatomy.TensorPlace place) => recipe.Values[recipe.GroupOf(place)][model][0];
            double[][] PerBlock(EvoMerge.Anatomy.TensorPart part) => [.. Enumerable.Range(0, 3).Select(m => Enumerable.Range(0, 19)
                .Select(b => Value(m, EvoMerge.Anatomy.TensorPlace.OfLayer(b, part, EvoMerge.Anatomy.ModelModule.Unet))).ToArray())];
            var outside = Enumerable.Range(0, 3).Select(m => Value(m, EvoMerge.Anatomy.TensorPlace.Of(EvoMerge.Anatomy.TensorRole.Other, EvoMerge.Anatomy.ModelModule.Vae))).ToArray();
            var expected = Reference("pipeline", ["unet", "text_encoder", "text_encoder_2", "vae"],
                PerBlock(EvoMerge.Anatomy.TensorPart.Attention), PerBlock(EvoMerge.Anatomy.TensorPart.Convolution), outside);
            Assert.Equal(models[0].Weights.Tensors.Count, expected.Count);
            AssertClose(expected, name => target[name]);
        }
        finally
        {
            foreach (var m in models) m.Dispose();
        }
    }
}

/// <summary>Recipes whose components or layouts cannot work: one line, naming the recipe position and what is wrong.</summary>
[Collection("sdxl")]
public sealed class DiffusionRecipeErrorTests(SdxlSources sources) : IDisposable
{
    readonly RecipeRunner _run = new();

    public void Dispose() => _run.Dispose();

    string Pipeline(int s) => Path.Combine(sources.Folders[s], "pipeline");

    string Single(int s) => Path.Combine(sources.Folders[s], "sdxl.safetensors");

    EvoMergeException Fails(string yaml)
    {
        var e = Assert.Throws<EvoMergeException>(() => _run.Plan(yaml).Dispose());
        Assert.DoesNotContain('\n', e.Message);
        Assert.StartsWith(_run.RecipePath + ":", e.Message);
        return e;
    }

    [PythonReferenceFact("numpy")]
    public void A_component_that_is_not_one_is_named_with_the_valid_ones()
    {
        var e = Fails($"merge_method: linear\nmodels:\n  - model: {Pipeline(0)}\n  - model: {Pipeline(1)}\ncomponents:\n  text_encoders: {Pipeline(1)}\n");
        Assert.Contains("'text_encoders' is not a component", e.Message);
        Assert.Contains("text_encoder_2", e.Message);
    }

    [PythonReferenceFact("numpy")]
    public void Sources_of_two_layouts_are_refused()
    {
        var e = Fails($"merge_method: linear\nmodels:\n  - model: {Pipeline(0)}\n  - model: {Single(1)}\n");
        Assert.Contains("is a single-file checkpoint but", e.Message);
        Assert.Contains("a diffusers pipeline folder", e.Message);
    }

    [Fact]
    public void An_unknown_place_filter_is_refused_with_the_valid_values()
    {
        TestModels.Write(_run.Root, "a", 1);
        var e = Fails("merge_method: linear\nmodels:\n  - model: {root}/a\n    parameters:\n      weight:\n        - filter: part:atention\n          value: 1\n        - value: 0.5\n");
        Assert.Contains("filter: 'part:atention': unknown part 'atention' (did you mean 'attention'?)", e.Message);
    }

    [Fact]
    public void Place_filters_match_module_part_and_layers()
    {
        var unet = EvoMerge.Anatomy.TensorPlace.OfLayer(4, EvoMerge.Anatomy.TensorPart.Attention, EvoMerge.Anatomy.ModelModule.Unet);
        var vae = EvoMerge.Anatomy.TensorPlace.Of(EvoMerge.Anatomy.TensorRole.Other, EvoMerge.Anatomy.ModelModule.Vae);
        Assert.True(new TensorFilter("module:unet").Matches("x", unet));
        Assert.False(new TensorFilter("module:unet").Matches("x", vae));
        Assert.True(new TensorFilter("part:attention").Matches("x", unet));
        Assert.False(new TensorFilter("part:convolution").Matches("x", unet));
        Assert.True(new TensorFilter("layers:0-8").Matches("x", unet));
        Assert.False(new TensorFilter("layers:5-8").Matches("x", unet));
        Assert.False(new TensorFilter("layers:0-18").Matches("x", vae));
        Assert.False(new TensorFilter("part:attention").Matches("x"));        // no place: no match, the next entry decides
        Assert.True(new TensorFilter("re:^x$").Matches("x"));
    }

    [Fact]
    public void Components_of_a_language_model_are_refused()
    {
        TestModels.Write(_run.Root, "a", 1);
        var e = Fails("merge_method: linear\nmodels:\n  - model: {root}/a\ncomponents:\n  vae: {root}/a\n");
        Assert.Contains("components: only diffusion checkpoints", e.Message);
    }

    [PythonReferenceFact("numpy")]
    public void Base_needs_a_base_model()
    {
        var e = Fails($"merge_method: linear\nmodels:\n  - model: {Pipeline(0)}\ncomponents:\n  vae: base\n");
        Assert.Contains("components.vae: 'base' names the base model, but the recipe has no base_model", e.Message);
    }

    [PythonReferenceFact("numpy")]
    public void A_source_without_the_component_is_refused()
    {
        // A single file without its VAE (first_stage_model.*): written from source 1 with those tensors left out.
        string noVae = Path.Combine(_run.Root, "novae");
        using (var full = SafetensorsModel.Open(Single(1)))
        {
            var keep = full.Tensors.Where(t => !t.Name.StartsWith("first_stage_model.", StringComparison.Ordinal)).ToList();
            using var w = SafetensorsWriter.Create(noVae, keep.Select(t => new TensorSpec(t.Name, t.DType, t.Shape)));
            foreach (var t in keep) w.WriteBytes(t.Name, full.GetBytes(t.Name));
            w.Complete();
        }
        var e = Fails($"merge_method: linear\nmodels:\n  - model: {Single(0)}\n  - model: {Single(2)}\ncomponents:\n  vae: {noVae}\n");
        Assert.Contains($"components.vae: model '{noVae}' has no vae", e.Message);
    }
}
