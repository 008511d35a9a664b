using EvoMerge.Anatomy;
using EvoMerge.Merge.Methods;

using EvoMerge.Merge;
using EvoMerge.Merge.Execution;

namespace EvoMerge.TestSupport;

/// <summary>
/// Test and benchmark parameters set by hand: one value per model, per layer group, per parameter, plus
/// globals. A grouping function maps each tensor to a group (see <see cref="LayerGroups"/>); unset values fall back
/// to the method's defaults, and a required parameter left unset is an error naming it.
/// </summary>
public sealed class GroupedParameters : IMergeParameters
{
    readonly MergeMethod _method;
    readonly Func<TensorPosition, int> _groupOf;
    readonly double[,,] _perModel; // [model, group, parameter index]; NaN = unset
    readonly double[] _globals;

    public int ModelCount { get; }

    public int GroupCount { get; }

    public GroupedParameters(MergeMethod method, int modelCount, int groupCount, Func<TensorPosition, int> groupOf)
    {
        _method = method;
        _groupOf = groupOf;
        ModelCount = modelCount;
        GroupCount = groupCount;
        _perModel = new double[modelCount, groupCount, method.ModelParameters.Count];
        _globals = new double[method.GlobalParameters.Count];
        Clear();
    }

    /// <summary>Forgets every value set, so one instance can be refilled for each candidate.</summary>
    public void Clear()
    {
        foreach (int m in Enumerable.Range(0, ModelCount))
            for (int g = 0; g < GroupCount; g++)
                for (int p = 0; p < _method.ModelParameters.Count; p++) _perModel[m, g, p] = double.NaN;
        Array.Fill(_globals, double.NaN);
    }

    public GroupedParameters Set(int model, int group, string name, double value)
    {
        _perModel[model, group, IndexOf(_method.ModelIndex(name), name)] = value;
        return this;
    }

    /// <summary>Sets the value for every group of <paramref name="model"/>.</summary>
    public GroupedParameters SetAllGroups(int model, string name, double value)
    {
        for (int g = 0; g < GroupCount; g++) Set(model, g, name, value);
        return this;
    }

    public GroupedParameters SetGlobal(string name, double value)
    {
        _globals[IndexOf(_method.GlobalIndex(name), name)] = value;
        return this;
    }

    public double Global(ParameterDef parameter, MergeJob job) =>
        OrDefault(_globals[_method.GlobalIndex(parameter.Name)], parameter, "global");

    public double PerModel(ParameterDef parameter, MergeJob job, int model)
    {
        int group = _groupOf(job.Position);
        return OrDefault(_perModel[model, group, _method.ModelIndex(parameter.Name)], parameter, $"model {model}, group {group}");
    }

    double OrDefault(double value, ParameterDef parameter, string where) =>
        !double.IsNaN(value) ? value
        : parameter.Default ?? throw new EvoMergeException($"{_method.Name}: parameter '{parameter.Name}' is required but was not set ({where})");

    int IndexOf(int index, string name) => index >= 0 ? index
        : throw new EvoMergeException($"{_method.Name} has no parameter '{name}'{NearestName.Suggest(name, _method.GlobalParameters.Concat(_method.ModelParameters).Select(p => p.Name))}");
}

/// <summary>Common ways to group tensors for per-group parameters.</summary>
public static class LayerGroups
{
    /// <summary>
    /// Group 0 holds everything outside the decoder layers (embeddings, final norm, head); groups 1..<paramref name="groups"/>
    /// split the <paramref name="layerCount"/> layers into contiguous blocks of near-equal size.
    /// </summary>
    public static Func<TensorPosition, int> Contiguous(int layerCount, int groups) => position =>
        position.Role != TensorRole.Layer || position.Layer < 0 ? 0 : 1 + (int)((long)position.Layer * groups / Math.Max(1, layerCount));
}
