using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Methods;

namespace EvoMerge.Merge.Recipes;

/// <summary>
/// Resolves a recipe's parameters for each tensor with mergekit's precedence: the source's own parameters, then the
/// slice's, then the module's (<c>modules.text_decoder.parameters</c>), then the top-level ones, then the method's default. Each level may be a scalar, a gradient over the
/// slice's depth, or a filter list; a filter list without a match falls through to the next level.
/// </summary>
public sealed class RecipeParameters(Recipe recipe, IReadOnlyList<RecipeSlice> slices, IReadOnlyList<string> sourceModels) : IMergeParameters
{
    public double Global(ParameterDef parameter, MergeJob job)
    {
        var slice = slices[job.Position.Slice];
        return Resolve(parameter, job.OutputName, job.Position, null, slice)
            ?? throw Missing(parameter, recipe.MergeMethodMark, job.OutputName, "");
    }

    public double PerModel(ParameterDef parameter, MergeJob job, int model)
    {
        var slice = slices[job.Position.Slice];
        string modelName = sourceModels[job.Models[model].Source];
        var source = slice.Sources.FirstOrDefault(s => s.Model == modelName);
        return Resolve(parameter, job.Models[model].TensorName, job.Position, source, slice)
            ?? throw Missing(parameter, source?.Mark ?? slice.Mark, job.OutputName, $" for model {modelName}");
    }

    double? Resolve(ParameterDef parameter, string tensorName, TensorPosition position, RecipeSource? source, RecipeSlice slice)
    {
        foreach (var level in new[] { source?.Parameters, slice.Parameters, recipe.ModuleParameters, recipe.Parameters })
            if (level != null && level.TryGetValue(parameter.Name, out var setting) && setting.Evaluate(tensorName, position.RelativeDepth, position.Place) is double v)
                return v;
        return parameter.Default;
    }

    EvoMergeException Missing(ParameterDef parameter, RecipeMark mark, string tensor, string where) =>
        new($"{mark}: parameter '{parameter.Name}' of {recipe.MergeMethod} is required{where} but has no value for tensor {tensor}");
}
