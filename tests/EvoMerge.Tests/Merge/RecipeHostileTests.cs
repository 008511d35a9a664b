namespace EvoMerge.Tests.Merge;

/// <summary>Broken recipes fail at check time with the recipe's line and the field at fault.</summary>
public class RecipeHostileTests : IDisposable
{
    readonly RecipeRunner _run = new();

    public RecipeHostileTests()
    {
        var b = TestModels.Write(_run.Root, "base", 1);
        TestModels.Write(_run.Root, "x", 2, related: b);
        TestModels.Write(_run.Root, "wide", 3, hidden: 12);
        TestModels.Write(_run.Root, "y", 4, related: b);
        TestModels.Write(_run.Root, "short", 5, layers: 2);
    }

    public void Dispose() => _run.Dispose();

    string Fails(string yaml)
    {
        var e = Assert.Throws<EvoMergeException>(() => _run.Plan(yaml).Dispose());
        Assert.Contains(_run.RecipePath, e.Message);
        return e.Message;
    }

    [Fact]
    public void Unknown_method_suggests_the_nearest()
    {
        string m = Fails("""
            models:
              - model: {root}/x
            merge_method: dare_tie
            base_model: {root}/base
            """);
        Assert.Contains("recipe.yml:3:15: merge_method: unknown method 'dare_tie' (did you mean 'dare_ties'?)", m);
    }

    [Fact]
    public void Missing_base_model_names_the_method_line()
    {
        string m = Fails("""
            models:
              - model: {root}/x
                parameters: {weight: 1}
            merge_method: ties
            """);
        Assert.Contains("recipe.yml:4:15: merge_method: ties needs base_model", m);
    }

    [Fact]
    public void Layer_range_beyond_the_model_names_its_line()
    {
        string m = Fails("""
            slices:
              - sources:
                  - model: {root}/x
                    layer_range: [0, 9]
            merge_method: passthrough
            """);
        Assert.Contains("recipe.yml:4:22: layer_range [0, 9]", m);
        Assert.Contains("has 4 layers", m);
    }

    [Fact]
    public void Slice_sources_of_different_depths_are_rejected()
    {
        string m = Fails("""
            slices:
              - sources:
                  - model: {root}/x
                    layer_range: [0, 2]
                  - model: {root}/base
                    layer_range: [0, 3]
            merge_method: slerp
            base_model: {root}/base
            parameters: {t: 0.5}
            """);
        Assert.Contains("recipe.yml:4:", m);
        Assert.Contains("same number of layers", m);
    }

    [Theory]
    [InlineData(".nan")]
    [InlineData("nan")]
    [InlineData(".inf")]
    public void Non_finite_weight_names_line_and_field(string value)
    {
        string m = Fails($$"""
            models:
              - model: {root}/x
                parameters:
                  weight: {{value}}
            merge_method: task_arithmetic
            base_model: {root}/base
            """);
        Assert.Contains($"recipe.yml:4:15: weight: expected a finite number, got '{value}'", m);
    }

    [Fact]
    public void Missing_model_path_names_line()
    {
        string m = Fails("""
            models:
              - model: {root}/nowhere
                parameters: {weight: 1}
            merge_method: linear
            """);
        Assert.Contains("recipe.yml:2:12: model: model '", m);
        Assert.Contains("nowhere", m);
    }

    [Fact]
    public void Misspelt_parameter_warns_with_the_nearest_and_strict_refuses_it()
    {
        // mergekit ignores parameters a method does not declare: a warning, an error only under strict.
        const string recipe = """
            models:
              - model: {root}/x
                parameters: {weight: 1, densty: 0.5}
            merge_method: dare_ties
            base_model: {root}/base
            """;
        using (var planned = _run.Plan(recipe))
            Assert.Contains(planned.Warnings, w => w.Contains("recipe.yml:3:") && w.Contains("unknown parameter 'densty' for dare_ties is ignored") && w.Contains("(did you mean 'density'?)"));
        string m = Fails(recipe + "\nstrict: true\n");
        Assert.Contains("unknown parameter 'densty' for dare_ties is ignored", m);
        Assert.Contains("strict: warnings are errors", m);
    }

    [Fact]
    public void Missing_required_weight_names_the_model()
    {
        string m = Fails("""
            models:
              - model: {root}/x
            merge_method: ties
            base_model: {root}/base
            """);
        Assert.Contains("recipe.yml:2:12: parameter 'weight' of ties is required for model", m);
    }

    [Fact]
    public void Shape_mismatch_names_model_and_tensor()
    {
        string m = Fails("""
            models:
              - model: {root}/wide
                parameters: {weight: 1}
            merge_method: task_arithmetic
            base_model: {root}/base
            """);
        Assert.Contains("recipe.yml:2:12: tensor 'model.embed_tokens.weight' of model '", m);
        Assert.Contains("wide' has shape [32, 12], expected [32, 8]", m);
    }

    [Fact]
    public void Models_of_different_depths_name_both()
    {
        string m = Fails("""
            models:
              - model: {root}/short
                parameters: {weight: 1}
            merge_method: task_arithmetic
            base_model: {root}/base
            """);
        Assert.Contains("recipe.yml:2:5: the sources of a slice must span the same number of layers", m);
        Assert.Contains("short' 2", m);
        Assert.Contains("base' 4", m);
    }

    sealed class CancelAfterFirstTensor(CancellationTokenSource cancel) : IProgress<EvoMerge.Merge.Execution.MergeProgress>
    {
        public int Reports;

        public void Report(EvoMerge.Merge.Execution.MergeProgress value)
        {
            Reports++;
            cancel.Cancel();
        }
    }

    [Fact]
    public void A_merge_stopped_midway_leaves_no_output_and_inputs_untouched()
    {
        string input = Path.Combine(_run.Root, "x", "model.safetensors");
        byte[] before = File.ReadAllBytes(input);
        using var planned = _run.Plan("""
            models:
              - model: {root}/x
                parameters: {weight: 1}
              - model: {root}/y
                parameters: {weight: 1}
            merge_method: linear
            """);
        using var cancel = new CancellationTokenSource();
        var progress = new CancelAfterFirstTensor(cancel);
        string output = Path.Combine(_run.Root, "out");
        Assert.ThrowsAny<OperationCanceledException>(() => EvoMerge.Merge.Output.MergedModelWriter.Write(planned, output,
            new EvoMerge.Merge.Execution.MergeOptions { Threads = 1, Progress = progress, Cancellation = cancel.Token }));
        Assert.True(progress.Reports >= 1);
        Assert.False(Directory.Exists(output));
        Assert.False(Directory.Exists(output + ".partial"));
        Assert.Equal(before, File.ReadAllBytes(input));
    }

    [Fact]
    public void Nuslerp_weights_summing_to_zero_fail_at_check()
    {
        string m = Fails("""
            models:
              - model: {root}/x
                parameters: {weight: 1}
              - model: {root}/y
                parameters: {weight: -1}
            merge_method: nuslerp
            base_model: {root}/base
            """);
        Assert.Contains("recipe.yml:6:15: nuslerp, tensor", m);
        Assert.Contains("weights sum to zero", m);
    }

    [Fact]
    public void Della_epsilon_too_large_for_density_fails_at_check()
    {
        string m = Fails("""
            models:
              - model: {root}/x
                parameters: {weight: 1, density: 0.9, epsilon: 0.15}
            merge_method: della
            base_model: {root}/base
            """);
        Assert.Contains("recipe.yml:4:15: della, tensor", m);
        Assert.Contains("density ± epsilon must lie in (0, 1), got density 0.9 and epsilon 0.15", m);
    }

    [Fact]
    public void Density_outside_unit_interval_is_rejected()
    {
        string m = Fails("""
            models:
              - model: {root}/x
                parameters: {weight: 1, density: 1.5}
            merge_method: ties
            base_model: {root}/base
            """);
        Assert.Contains("recipe.yml:3:", m);
        Assert.Contains("density: expected a value in [0, 1]", m);
    }

    [Fact]
    public void Unknown_top_level_field_warns_with_suggestion_and_a_missing_method_still_fails()
    {
        string m = Fails("""
            merge_methd: linear
            models:
              - model: {root}/x
            """);
        Assert.Contains("merge_method is missing", m);
        var recipe = EvoMerge.Merge.Recipes.RecipeParser.Parse("merge_methd: linear\nmerge_method: linear\nmodels:\n  - model: x\n", "r.yml");
        Assert.Contains("r.yml:1:1: unknown field 'merge_methd' is ignored, as mergekit ignores it (did you mean 'merge_method'?)", recipe.Warnings);
    }

    [Fact]
    public void Slerp_with_two_other_models_is_rejected()
    {
        string m = Fails("""
            models:
              - model: {root}/x
              - model: {root}/y
            merge_method: slerp
            base_model: {root}/base
            parameters: {t: 0.5}
            """);
        Assert.Contains("slerp takes exactly 1 model(s) besides the base, got 2", m);
    }
}
