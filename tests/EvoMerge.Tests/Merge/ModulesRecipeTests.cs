using EvoMerge.Merge.Methods;

namespace EvoMerge.Tests.Merge;

/// <summary>
/// mergekit's multi-module recipe form (<c>modules: name: {models|slices, parameters}</c>) on plain models: the
/// decoder module (<c>default</c> or <c>text_decoder</c>) plans exactly as the same models or slices written at the
/// top level; module parameters sit between the slice's and the top-level ones; bad module names and mixed forms
/// are one-line errors. VLM modules (vision tower, projector) are tested with generated llava folders in
/// EvoMerge.Torch.Tests (VlmMergeTests).
/// </summary>
public class ModulesRecipeTests : IDisposable
{
    readonly RecipeRunner _run = new();

    public ModulesRecipeTests()
    {
        var parent = TestModels.Write(_run.Root, "base", 1);
        TestModels.Write(_run.Root, "x", 2, related: parent);
        TestModels.Write(_run.Root, "y", 3, related: parent);
    }

    public void Dispose() => _run.Dispose();

    [Theory]
    [InlineData("default")]
    [InlineData("text_decoder")]
    public void The_decoder_module_plans_like_the_same_slices_at_the_top_level(string module)
    {
        const string slices = """
              - sources:
                  - {model: {root}/base, layer_range: [0, 2]}
                  - {model: {root}/x, layer_range: [0, 2]}
              - sources:
                  - {model: {root}/base, layer_range: [2, 4]}
                  - {model: {root}/y, layer_range: [2, 4]}
            """;
        static string Indent(string text, int spaces) => string.Join("\n", text.Split('\n').Select(l => l.Length > 0 ? new string(' ', spaces) + l : l));
        using var plain = _run.Plan("merge_method: slerp\nbase_model: {root}/base\nparameters: {t: [0.2, 0.8]}\nslices:\n" + slices);
        var plainJobs = plain.Plan.Jobs.Select(j => (j.OutputName, j.Models[0].TensorName, T: plain.Parameters.Global(plain.Plan.Method.GlobalParameters[0], j))).ToList();
        using var modular = _run.Plan($"merge_method: slerp\nbase_model: {{root}}/base\nmodules:\n  {module}:\n    parameters: {{t: [0.2, 0.8]}}\n    slices:\n" + Indent(slices, 4));
        var modularJobs = modular.Plan.Jobs.Select(j => (j.OutputName, j.Models[0].TensorName, T: modular.Parameters.Global(modular.Plan.Method.GlobalParameters[0], j))).ToList();
        Assert.Equal(plainJobs, modularJobs);
        Assert.Contains(modularJobs, j => j.OutputName == "model.layers.3.mlp.up_proj.weight" && j.TensorName == "model.layers.3.mlp.up_proj.weight" && Math.Abs(j.T - 0.8) < 1e-12);
    }

    [Fact]
    public void Module_parameters_sit_between_the_models_and_the_top_level()
    {
        using var planned = _run.Plan("""
            merge_method: ties
            base_model: {root}/base
            parameters: {weight: 0.1, density: 0.2}
            modules:
              default:
                parameters: {weight: 0.3}
                models:
                  - model: {root}/x
                    parameters: {weight: 0.9}
                  - model: {root}/y
            """);
        var method = planned.Plan.Method;
        var weight = method.ModelParameters.First(p => p.Name == "weight");
        var density = method.ModelParameters.First(p => p.Name == "density");
        var job = planned.Plan.Jobs.First(j => j.OutputName == "model.layers.0.self_attn.q_proj.weight");
        Assert.Equal(0.9, planned.Parameters.PerModel(weight, job, 0));    // the model's own
        Assert.Equal(0.3, planned.Parameters.PerModel(weight, job, 1));    // the module's
        Assert.Equal(0.2, planned.Parameters.PerModel(density, job, 1));   // the top level's
    }

    [Theory]
    [InlineData("modules:\n  txt_decoder:\n    models: [{model: '{root}/x'}]\n", "recipe.yml:4:3: modules.txt_decoder: unknown module (did you mean 'text_decoder'?)")]
    [InlineData("models: [{model: '{root}/x'}]\nmodules:\n  default:\n    models: [{model: '{root}/y'}]\n", "recipe.yml:3:9: a recipe needs exactly one of 'models', 'slices' and 'modules'")]
    [InlineData("modules:\n  vision_tower:\n    models: [{model: '{root}/x'}]\n", "recipe.yml:4:3: modules: 'text_decoder' is missing")]
    [InlineData("modules:\n  default:\n    models: [{model: '{root}/x'}]\n  vision_tower:\n    models: [{model: '{root}/x'}]\n", "modules.vision_tower: '{root}/x' is not a LLaVA folder")]
    [InlineData("modules:\n  default:\n    models: [{model: '{root}/x'}]\n    layer_range: [0, 2]\n", "recipe.yml:6:5: modules.text_decoder: unknown field 'layer_range'")]
    public void Bad_module_recipes_are_one_line_errors(string body, string expected)
    {
        var e = Assert.Throws<EvoMergeException>(() => _run.Plan("merge_method: linear\nbase_model: {root}/base\n" + body).Dispose());
        Assert.Contains(expected.Replace("{root}", _run.Root), e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
