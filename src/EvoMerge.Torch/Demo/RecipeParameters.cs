using EvoMerge.Evolution.Spaces;
using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Methods;

namespace EvoMerge.Torch.Demo;

/// <summary>A PS recipe as merge parameters: each tensor takes its group's per-model values; globals keep the method's defaults.</summary>
sealed class RecipeParameters(PsRecipe recipe) : IMergeParameters
{
    public double Global(ParameterDef parameter, MergeJob job) =>
        parameter.Default ?? throw new EvoMergeException($"merge method {recipe.Method}: parameter '{parameter.Name}' has no default and the recipe does not set it");

    public double PerModel(ParameterDef parameter, MergeJob job, int model)
    {
        int p = IndexOf(parameter.Name);
        return p >= 0 ? recipe.ValuesFor(job.OutputName)[model][p] : Global(parameter, job);
    }

    int IndexOf(string name)
    {
        for (int i = 0; i < recipe.Parameters.Count; i++)
            if (recipe.Parameters[i] == name) return i;
        return -1;
    }
}
