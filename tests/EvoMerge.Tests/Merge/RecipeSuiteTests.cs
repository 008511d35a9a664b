using EvoMerge.IO;
using EvoMerge.Merge.Methods;

namespace EvoMerge.Tests.Merge;

/// <summary>
/// Real-world mergekit recipes (frankenmerge, gradient slerp, filtered TIES, three-model DARE-TIES, model_stock,
/// tokenizer union, ...) run end to end on generated models. Expected values are computed here from the inputs
/// with the methods' formulas written out in double precision.
/// </summary>
public class RecipeSuiteTests : IDisposable
{
    readonly RecipeRunner _run = new();

    public void Dispose() => _run.Dispose();

    TestModels.Generated Base(string name = "base", int layers = 4, int vocab = 32) => TestModels.Write(_run.Root, name, 1, layers, vocab);

    TestModels.Generated Tune(TestModels.Generated parent, string name, int seed, int vocab = 32) =>
        TestModels.Write(_run.Root, name, seed, 4, vocab, related: parent);

    static void Near(double expected, float actual, double tolerance, string what) =>
        Assert.True(Math.Abs(expected - actual) <= tolerance, $"{what}: expected {expected}, got {actual}");

    static double Dot(float[] a, float[] b) => a.Zip(b, (x, y) => (double)x * y).Sum();

    /// <summary>Shoemake's slerp written out (lerp when |cos| > 0.9995), for expectations.</summary>
    static double[] Slerp(double t, float[] a, float[] b)
    {
        double cos = Dot(a, b) / Math.Sqrt(Dot(a, a) * Dot(b, b));
        if (Math.Abs(cos) > 0.9995) return a.Zip(b, (x, y) => (1 - t) * x + t * y).ToArray();
        double th = Math.Acos(cos);
        return a.Zip(b, (x, y) => Math.Sin((1 - t) * th) / Math.Sin(th) * x + Math.Sin(t * th) / Math.Sin(th) * y).ToArray();
    }

    [Fact]
    public void Frankenmerge_with_overlapping_layer_ranges_stacks_and_renumbers_layers()
    {
        var a = Base("a");
        var b = TestModels.Write(_run.Root, "b", 2);
        var (model, t) = TestModels.Read(_run.Merge(Frankenmerge));
        using (model)
        {
            Assert.Equal(6, model.LayerCount);
            Assert.Equal(6, model.Config!.NumLayers);
            Assert.Equal(TestModels.Tensors(6, 32).Select(x => x.Name).Order(), t.Keys.Order());
            for (int layer = 0; layer < 6; layer++)
            {
                var (src, srcLayer) = layer < 3 ? (a, layer) : (b, layer - 2);
                Assert.Equal(src.Weights.Get($"model.layers.{srcLayer}.mlp.up_proj.weight"), t[$"model.layers.{layer}.mlp.up_proj.weight"]);
            }
            Assert.Equal(a.Weights.Get("model.embed_tokens.weight"), t["model.embed_tokens.weight"]);
            Assert.Equal(b.Weights.Get("lm_head.weight"), t["lm_head.weight"]);
            Assert.Equal(b.Weights.Get("model.norm.weight"), t["model.norm.weight"]);
        }
    }

    [Fact]
    public void Gradient_slerp_with_self_attn_and_mlp_filters_writes_bf16_folder_with_card_and_recipe()
    {
        var a = Base("a");
        var b = TestModels.Write(_run.Root, "b", 2);
        string recipe = GradientSlerp;
        string output = _run.Merge(recipe);
        var (model, t) = TestModels.Read(output);
        using (model)
        {
            Assert.All(model.Weights.Tensors, x => Assert.Equal(DType.BF16, x.DType));
            Assert.Equal("bfloat16", model.Config!.TorchDType);
            // Layer 1 sits at depth 1/3: self_attn t = 0.5 + (0.3 − 0.5)·(4/3 − 1) = 0.4333…, mlp t = 0.5 + (0.7 − 0.5)/3.
            // Layer 0 (depth 0) takes the gradients' first values, layer 3 (depth 1) their last; other tensors 0.5.
            (string Name, double T)[] cases =
            [
                ("model.layers.1.self_attn.q_proj.weight", 0.5 + (0.3 - 0.5) / 3),
                ("model.layers.1.mlp.up_proj.weight", 0.5 + (0.7 - 0.5) / 3),
                ("model.layers.0.self_attn.k_proj.weight", 0),
                ("model.layers.3.mlp.down_proj.weight", 0),
                ("model.layers.3.self_attn.q_proj.weight", 1),
                ("model.layers.2.input_layernorm.weight", 0.5),
                ("model.embed_tokens.weight", 0.5),
            ];
            foreach (var (name, tt) in cases)
            {
                var expected = Slerp(tt, a.Weights.Get(name), b.Weights.Get(name));
                for (int i = 0; i < expected.Length; i++) Near(expected[i], t[name][i], 0.01 * Math.Abs(expected[i]) + 1e-6, name);
            }
        }
        Assert.Equal(File.ReadAllText(_run.RecipePath), File.ReadAllText(Path.Combine(output, "mergekit_config.yml")));
        string card = File.ReadAllText(Path.Combine(output, "README.md"));
        Assert.Contains($"{_run.Root}/b", card);
        Assert.Contains("slerp", card);
        Assert.True(File.Exists(Path.Combine(output, "tokenizer.json")));
    }

    [Fact]
    public void Ties_with_filtered_weights_per_model_matches_disjoint_mean()
    {
        var b = Base();
        var x = Tune(b, "x", 2);
        var y = Tune(b, "y", 3);
        var (model, t) = TestModels.Read(_run.Merge(FilteredTies));
        using (model)
            foreach (var (name, wx) in new[] { ("model.layers.2.self_attn.q_proj.weight", 0.7), ("model.layers.2.mlp.up_proj.weight", 0.2), ("lm_head.weight", 0.5) })
            {
                float[] b0 = b.Weights.Get(name), x0 = x.Weights.Get(name), y0 = y.Weights.Get(name);
                for (int i = 0; i < b0.Length; i++)
                {
                    double dx = wx * (x0[i] - b0[i]), dy = 0.5 * (y0[i] - b0[i]), sign = dx + dy >= 0 ? 1 : -1;
                    double sum = 0, weights = 0;
                    if (Math.Sign(dx) == sign) { sum += dx; weights += wx; }
                    if (Math.Sign(dy) == sign) { sum += dy; weights += 0.5; }
                    Near(b0[i] + (weights == 0 ? 0 : sum / weights), t[name][i], 1e-5, name);
                }
            }
    }

    internal const string Frankenmerge = """
        slices:
          - sources:
            - model: {root}/a
              layer_range: [0, 3]
          - sources:
            - model: {root}/b
              layer_range: [1, 4]
        merge_method: passthrough
        dtype: float32
        """;

    internal const string GradientSlerp = """
        slices:
          - sources:
              - model: {root}/a
                layer_range: [0, 4]
              - model: {root}/b
                layer_range: [0, 4]
        merge_method: slerp
        base_model: {root}/a
        parameters:
          t:
            - filter: self_attn
              value: [0, 0.5, 0.3, 0.7, 1]
            - filter: mlp
              value: [1, 0.5, 0.7, 0.3, 0]
            - value: 0.5
        dtype: bfloat16
        """;

    internal const string FilteredTies = """
        models:
          - model: {root}/base
          - model: {root}/x
            parameters:
              density: 1
              weight:
                - filter: self_attn
                  value: 0.7
                - filter: mlp
                  value: 0.2
                - value: 0.5
          - model: {root}/y
            parameters:
              density: 1.0
              weight: 0.5
        merge_method: ties
        base_model: {root}/base
        parameters:
          normalize: true
        dtype: float32
        """;

    internal const string ModelStock = """
        models:
          - model: {root}/a
          - model: {root}/b
          - model: {root}/c
        merge_method: model_stock
        base_model: {root}/base
        dtype: float32
        """;

    internal const string TokenizerUnion = """
        models:
          - model: {root}/a
            parameters: {weight: 0.5}
          - model: {root}/b
            parameters: {weight: 0.5}
        merge_method: linear
        tokenizer:
          source: union
          pad_to_multiple_of: 64
        dtype: float32
        """;

    internal const string TaskArithmetic = """
        merge_method: task_arithmetic
        base_model: {root}/base
        models:
          - model: {root}/x
            parameters: {weight: 1.0, density: 0.5}
          - model: {root}/y
            parameters: {weight: -0.5}
        parameters:
          lambda: 0.8
        dtype: float32
        """;

    internal const string Precedence = """
        slices:
          - sources:
              - model: {root}/a
                layer_range: [0, 2]
              - model: {root}/b
                layer_range: [0, 2]
                parameters: {weight: 3}
          - sources:
              - model: {root}/a
                layer_range: [2, 4]
              - model: {root}/b
                layer_range: [2, 4]
            parameters: {weight: 0.25}
        parameters:
          weight: 1
          normalize: true
        merge_method: linear
        dtype: float32
        """;

    internal const string Nuslerp = """
        merge_method: nuslerp
        base_model: {root}/base
        models:
          - model: {root}/x
            parameters: {weight: 1}
          - model: {root}/y
            parameters: {weight: 3}
        dtype: float32
        """;

    internal const string GlobGradient = """
        merge_method: linear
        models:
          - model: {root}/a
            parameters:
              weight:
                - filter: "model.layers.*.mlp.*"
                  value: [0, 1]
                - value: 1
          - model: {root}/b
            parameters:
              weight: 1
        dtype: float32
        """;

    internal const string DellaMergekit = """
        merge_method: della_linear
        base_model: {root}/base
        models:
          - model: {root}/x
            parameters: {weight: 0.5, density: 0.5, epsilon: 0.1}
          - model: {root}/y
            parameters: {weight: 0.5, density: 0.5, epsilon: 0.1}
        compat: mergekit
        dtype: float32
        """;

    /// <summary>Every recipe of the suite (the recipe fuzz test mutates them).</summary>
    internal static readonly string[] All =
        [Frankenmerge, GradientSlerp, FilteredTies, DareTies, ModelStock, TokenizerUnion, TaskArithmetic, Precedence, Nuslerp, GlobGradient, DellaMergekit];

    internal const string DareTies = """
        models:
          - model: {root}/base
          - model: {root}/a
            parameters: {density: 0.5, weight: 0.4}
          - model: {root}/b
            parameters: {density: 0.6, weight: 0.3}
          - model: {root}/c
            parameters: {density: 0.7, weight: 0.3}
        merge_method: dare_ties
        base_model: {root}/base
        parameters:
          int8_mask: true
        dtype: float32
        """;

    [Fact]
    public void Dare_ties_with_three_models_keeps_rescaled_agreeing_subsets_and_is_reproducible()
    {
        var b = Base();
        var m = new[] { Tune(b, "a", 2), Tune(b, "b", 3), Tune(b, "c", 4) };
        double[] w = [0.4, 0.3, 0.3], p = [0.5, 0.6, 0.7];
        string first = _run.Merge(DareTies, "one", seed: 5, threads: 1);
        string second = _run.Merge(DareTies, "two", seed: 5, threads: 2);
        string other = _run.Merge(DareTies, "three", seed: 6, threads: 2);
        Assert.Equal(File.ReadAllBytes(Path.Combine(first, "model.safetensors")), File.ReadAllBytes(Path.Combine(second, "model.safetensors")));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(first, "model.safetensors")), File.ReadAllBytes(Path.Combine(other, "model.safetensors")));

        var (model, t) = TestModels.Read(first);
        using (model)
        {
            const string name = "model.layers.1.mlp.up_proj.weight";
            float[] b0 = b.Weights.Get(name);
            int kept = 0;
            // Each entry must be base + Σ over a same-signed subset S of wᵢτᵢ/pᵢ (DARE keeps τᵢ with probability pᵢ and
            // rescales by 1/pᵢ; TIES keeps the agreeing ones; normalize is off for dare_ties).
            for (int i = 0; i < b0.Length; i++)
            {
                var terms = Enumerable.Range(0, 3).Select(k => w[k] * (m[k].Weights.Get(name)[i] - b0[i]) / p[k]).ToArray();
                bool found = false;
                for (int mask = 0; mask < 8 && !found; mask++)
                {
                    var chosen = Enumerable.Range(0, 3).Where(k => (mask >> k & 1) == 1).Select(k => terms[k]).ToArray();
                    if (chosen.Any(v => v > 0) && chosen.Any(v => v < 0)) continue;
                    found = Math.Abs(b0[i] + chosen.Sum() - t[name][i]) < 1e-5;
                }
                Assert.True(found, $"entry {i} is not base plus an agreeing subset of rescaled task vectors");
                if (t[name][i] != b0[i]) kept++;
            }
            Assert.InRange(kept, b0.Length / 2, b0.Length);
        }
    }

    [Fact]
    public void Dare_output_does_not_depend_on_shard_layout()
    {
        var b = Base();
        foreach (var (name, seed) in new[] { ("a", 2), ("b", 3), ("c", 4) }) Tune(b, name, seed);
        using var planned = _run.Plan(DareTies);
        string sharded = Path.Combine(_run.Root, "sharded");
        EvoMerge.Merge.Output.MergedModelWriter.Write(planned, sharded, new EvoMerge.Merge.Execution.MergeOptions { Seed = 5, Threads = 2 }, maxShardBytes: 2000);
        Assert.True(Directory.GetFiles(sharded, "*.safetensors").Length > 3);
        Assert.True(File.Exists(Path.Combine(sharded, "model.safetensors.index.json")));
        var (one, single) = TestModels.Read(_run.Merge(DareTies, "single", seed: 5, threads: 1));
        var (many, split) = TestModels.Read(sharded);
        using (one)
        using (many)
            foreach (var (name, values) in single) Assert.Equal(values, split[name]);
    }

    [Fact]
    public void Model_stock_interpolates_average_towards_base_by_task_vector_angle()
    {
        var b = Base();
        var m = new[] { Tune(b, "a", 2), Tune(b, "b", 3), Tune(b, "c", 4) };
        var (model, t) = TestModels.Read(_run.Merge(ModelStock));
        using (model)
        {
            const string name = "model.layers.3.self_attn.q_proj.weight";
            var b0 = b.Weights.Get(name);
            var d = m.Select(x => x.Weights.Get(name).Zip(b0, (u, v) => u - v).ToArray()).ToArray();
            double Cos(float[] u, float[] v) => Dot(u, v) / Math.Sqrt(Dot(u, u) * Dot(v, v));
            double cos = (Cos(d[0], d[1]) + Cos(d[0], d[2]) + Cos(d[1], d[2])) / 3, ratio = 3 * cos / (1 + 2 * cos);
            for (int i = 0; i < b0.Length; i++)
            {
                double mean = m.Average(x => (double)x.Weights.Get(name)[i]);
                Near(ratio * mean + (1 - ratio) * b0[i], t[name][i], 1e-5, name);
            }
        }
    }

    [Fact]
    public void Tokenizer_union_without_vocabularies_lines_up_ids_and_takes_the_larger_tokenizer()
    {
        var a = Base("a");
        var b = TestModels.Write(_run.Root, "b", 2, vocab: 34);
        string output = _run.Merge(TokenizerUnion);
        using (var planned = _run.Plan(File.ReadAllText(_run.RecipePath)))
            Assert.Contains(planned.Warnings, w => w.Contains("tokenizer.pad_to_multiple_of is not supported"));
        var (model, t) = TestModels.Read(output);
        using (model)
        {
            Assert.Equal(34, model.Config!.VocabSize);
            Assert.Contains("\"name\": \"b\"", File.ReadAllText(Path.Combine(output, "tokenizer.json")));
            foreach (string name in new[] { "model.embed_tokens.weight", "lm_head.weight" })
            {
                float[] ea = a.Weights.Get(name), eb = b.Weights.Get(name), e = t[name];
                Assert.Equal(34 * TestModels.Hidden, e.Length);
                for (int row = 0; row < 34; row++)
                    for (int c = 0; c < TestModels.Hidden; c++)
                    {
                        // Without vocabularies in tokenizer.json ids are the tokens; rows a lacks (32, 33) take the row of the
                        // one model that has them (mergekit's rule), so the output there is b's row.
                        double fromA = (row < 32 ? ea : eb)[row * TestModels.Hidden + c];
                        Near(0.5 * fromA + 0.5 * eb[row * TestModels.Hidden + c], e[row * TestModels.Hidden + c], 1e-5, $"{name} row {row}");
                    }
            }
        }
    }

    [Fact]
    public void Task_arithmetic_warns_about_density_and_applies_lambda()
    {
        var b = Base();
        var x = Tune(b, "x", 2);
        var y = Tune(b, "y", 3);
        string recipe = TaskArithmetic;
        using (var planned = _run.Plan(recipe))
            Assert.Contains(planned.Warnings, w => w.Contains("recipe.yml:5:") && w.Contains("'density' has no effect with task_arithmetic"));
        var (model, t) = TestModels.Read(_run.Merge(recipe));
        using (model)
        {
            const string name = "model.layers.0.mlp.down_proj.weight";
            float[] b0 = b.Weights.Get(name), x0 = x.Weights.Get(name), y0 = y.Weights.Get(name);
            for (int i = 0; i < b0.Length; i++) Near(b0[i] + 0.8 * ((x0[i] - b0[i]) - 0.5 * (y0[i] - b0[i])), t[name][i], 1e-5, name);
        }
    }

    [Fact]
    public void Parameters_follow_source_over_slice_over_top_level_precedence()
    {
        var a = Base("a");
        var b = TestModels.Write(_run.Root, "b", 2);
        var (model, t) = TestModels.Read(_run.Merge(Precedence));
        using (model)
        {
            // Slice 1 (and the embeddings before it): a has the top-level 1, b its own 3. Slice 2 (and the head): 0.25 each.
            foreach (var (name, wa, wb) in new[] { ("model.layers.1.mlp.up_proj.weight", 1.0, 3.0), ("model.embed_tokens.weight", 1, 3),
                         ("model.layers.2.mlp.up_proj.weight", 0.25, 0.25), ("lm_head.weight", 0.25, 0.25) })
            {
                float[] x = a.Weights.Get(name), y = b.Weights.Get(name);
                for (int i = 0; i < x.Length; i++) Near((wa * x[i] + wb * y[i]) / (wa + wb), t[name][i], 1e-5, name);
            }
        }
    }

    [Fact]
    public void Nuslerp_slerps_task_vectors_with_t_from_relative_weights()
    {
        var b = Base();
        var x = Tune(b, "x", 2);
        var y = Tune(b, "y", 3);
        var (model, t) = TestModels.Read(_run.Merge(Nuslerp));
        using (model)
        {
            const string name = "model.layers.2.self_attn.k_proj.weight";
            var b0 = b.Weights.Get(name);
            var expected = Slerp(0.75, x.Weights.Get(name).Zip(b0, (u, v) => u - v).ToArray(), y.Weights.Get(name).Zip(b0, (u, v) => u - v).ToArray());
            for (int i = 0; i < b0.Length; i++) Near(b0[i] + expected[i], t[name][i], 1e-5, name);
        }
    }

    [Fact]
    public void Glob_filter_with_gradient_weights_only_matching_tensors()
    {
        var a = Base("a");
        var b = TestModels.Write(_run.Root, "b", 2);
        var (model, t) = TestModels.Read(_run.Merge(GlobGradient));
        using (model)
            foreach (var (name, wa) in new[] { ("model.layers.1.mlp.down_proj.weight", 1 / 3.0), ("model.layers.0.mlp.up_proj.weight", 0.0), ("model.layers.1.self_attn.q_proj.weight", 1) })
            {
                float[] x = a.Weights.Get(name), y = b.Weights.Get(name);
                for (int i = 0; i < x.Length; i++) Near((wa * x[i] + y[i]) / (wa + 1), t[name][i], 1e-5, name);
            }
    }

    [Fact]
    public void Della_linear_recipe_with_compat_mergekit_sparsifies_every_tensor()
    {
        var b = Base();
        Tune(b, "x", 2);
        Tune(b, "y", 3);
        string recipe = DellaMergekit;
        using (var planned = _run.Plan(recipe)) Assert.Equal(MergeCompat.Mergekit, planned.Compat);
        var (model, t) = TestModels.Read(_run.Merge(recipe, seed: 3));
        using (model)
        {
            Assert.Equal(TestModels.Tensors(4, 32).Select(x => x.Name).Order(), t.Keys.Order());
            // About half of each task vector survives: the merged entries differ from the base almost everywhere but
            // are not the plain average.
            const string name = "model.layers.0.mlp.up_proj.weight";
            int changed = t[name].Zip(b.Weights.Get(name)).Count(p => p.First != p.Second);
            Assert.InRange(changed, t[name].Length / 2, t[name].Length);
        }
    }
}
