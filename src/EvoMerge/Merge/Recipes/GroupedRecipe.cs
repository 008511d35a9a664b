using EvoMerge.Anatomy;
using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Methods;

namespace EvoMerge.Merge.Recipes;

/// <summary>
/// A merge recipe in grouped form: a method over source models and, for every tensor group and source model, a
/// value per listed parameter (<c>Values[group][model][parameter]</c>, parameters in <see cref="Parameters"/>
/// order). A decoded PS genome is one; the merge engine reads it through <see cref="WithGlobals"/>, matching each
/// tensor's place (carried by the plan) against the groups, so no tensor name is parsed per candidate.
/// <see cref="Components"/>: a diffusion checkpoint's components taken whole from a model (<c>ps.components</c>).
/// <see cref="Loras"/>: LoRAs folded into the merged result, in order, as a recipe's <c>loras:</c> (<c>ps.loras</c>).
/// </summary>
public sealed record GroupedRecipe(
    string Method,
    string? BaseModel,
    IReadOnlyList<string> Models,
    IReadOnlyList<string> Parameters,
    IReadOnlyList<TensorGroup> Groups,
    IReadOnlyList<IReadOnlyList<IReadOnlyList<double>>> Values,
    IReadOnlyDictionary<string, string>? Components = null,
    IReadOnlyList<WeightedLora>? Loras = null)
{
    /// <summary>The model whose structure and tokenizer a merge of this recipe has.</summary>
    public string ReferenceModel => BaseModel ?? Models[0];

    /// <summary>The index of the first group that holds <paramref name="place"/>.</summary>
    public int GroupOf(TensorPlace place) => TensorGroup.IndexOf(Groups, place);

    public double Value(int group, int model, string parameter) => IndexOf(parameter) is >= 0 and var p ? Values[group][model][p]
        : throw new EvoMergeException($"{Method} recipe: no parameter '{parameter}'; it lists {string.Join(", ", Parameters)}");

    /// <summary>The recipe as the merge engine's parameters; unlisted parameters take the method's defaults.</summary>
    /// <param name="globals">Values of the method's global parameters (e.g. <c>normalize</c>, <c>lambda</c>).</param>
    public IMergeParameters WithGlobals(IReadOnlyDictionary<string, double> globals) => new Bound(this, globals);

    int IndexOf(string parameter)
    {
        for (int i = 0; i < Parameters.Count; i++) if (Parameters[i] == parameter) return i;
        return -1;
    }

    sealed class Bound(GroupedRecipe recipe, IReadOnlyDictionary<string, double> globals) : IMergeParameters
    {
        public double Global(ParameterDef parameter, MergeJob job) =>
            globals.TryGetValue(parameter.Name, out double v) ? v
            : parameter.Default ?? throw new EvoMergeException($"{recipe.Method} needs the global parameter '{parameter.Name}'");

        public double PerModel(ParameterDef parameter, MergeJob job, int model)
        {
            int p = recipe.IndexOf(parameter.Name);
            return p >= 0 ? recipe.Values[recipe.GroupOf(job.Position.Place)][model][p]
                : parameter.Default ?? throw new EvoMergeException($"{recipe.Method} needs '{parameter.Name}' per model; list it among the recipe's parameters");
        }
    }
}

/// <summary>A LoRA (a reference: path or cached id) folded into a merge's result at <see cref="Strength"/>.</summary>
public sealed record WeightedLora(string Path, double Strength);
