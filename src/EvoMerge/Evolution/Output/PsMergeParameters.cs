using EvoMerge.Evolution.Spaces;
using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Methods;

namespace EvoMerge.Evolution.Output;

/// <summary>
/// A decoded PS recipe as the merge engine's parameters: evolved per-model values by tensor group, fixed globals,
/// and the method's defaults for everything else.
/// </summary>
public sealed class PsMergeParameters(PsRecipe recipe, IReadOnlyDictionary<string, double> globals) : IMergeParameters
{
    public double Global(ParameterDef parameter, MergeJob job) =>
        globals.TryGetValue(parameter.Name, out double v) ? v
        : parameter.Default ?? throw new EvoMergeException($"ps.globals: {recipe.Method} needs '{parameter.Name}'");

    public double PerModel(ParameterDef parameter, MergeJob job, int model)
    {
        int p = IndexOf(parameter.Name);
        return p >= 0 ? recipe.ValuesFor(job.OutputName)[model][p]
            : parameter.Default ?? throw new EvoMergeException($"ps.parameters: {recipe.Method} needs '{parameter.Name}' per model; add it to the evolved parameters");
    }

    int IndexOf(string name)
    {
        for (int i = 0; i < recipe.Parameters.Count; i++) if (recipe.Parameters[i] == name) return i;
        return -1;
    }
}
