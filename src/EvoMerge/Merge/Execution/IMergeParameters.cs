using EvoMerge.Merge.Methods;

namespace EvoMerge.Merge.Execution;

/// <summary>
/// The parameter values of one merge, resolved per output tensor: a recipe's scalars, gradients and filters
/// (<c>RecipeParameters</c>), or a grouped recipe's per-model, per-group values matched on each tensor's place
/// (<c>GroupedRecipe.WithGlobals</c>). Called once per tensor and parameter, never per element.
/// </summary>
public interface IMergeParameters
{
    double Global(ParameterDef parameter, MergeJob job);

    /// <summary>The value for the model in <paramref name="job"/>.Models[<paramref name="model"/>].</summary>
    double PerModel(ParameterDef parameter, MergeJob job, int model);
}
