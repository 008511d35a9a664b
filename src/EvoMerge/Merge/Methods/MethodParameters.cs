namespace EvoMerge.Merge.Methods;

/// <summary>
/// The parameters a method accepts, declared once: each declaration adds the recipe-facing <see cref="ParameterDef"/>
/// and returns the typed handle the kernel reads the resolved value through (<c>input[Density, m]</c>), so a
/// parameter's position in the lists and its use cannot drift apart, and a flag cannot be read as a number (the idea
/// of mergekit's <c>easy_define</c>). Declaration order is the order of the lists (CLI help, docs, planning).
/// </summary>
public sealed class MethodParameters
{
    readonly List<ParameterDef> _globals = [];
    readonly List<ParameterDef> _perModel = [];

    public IReadOnlyList<ParameterDef> Globals => _globals;

    public IReadOnlyList<ParameterDef> PerModel => _perModel;

    /// <summary>A number set once for the whole merge (or per tensor by a gradient or filter).</summary>
    public GlobalNumber Number(string name, double? defaultValue, string description) =>
        new(Add(_globals, ParameterDef.Number(name, defaultValue, description)));

    /// <summary>A boolean set once for the whole merge.</summary>
    public GlobalFlag Flag(string name, bool defaultValue, string description) =>
        new(Add(_globals, ParameterDef.Flag(name, defaultValue, description)));

    /// <summary>A number each model sets for itself.</summary>
    public ModelNumber PerModelNumber(string name, double? defaultValue, string description) =>
        new(Add(_perModel, ParameterDef.Number(name, defaultValue, description)));

    /// <summary>
    /// mergekit's <c>int8_mask</c> flag: accepted so that mergekit recipes load, never read (masks are exact here).
    /// Returns this list, for declarations that start with it.
    /// </summary>
    public MethodParameters AcceptInt8Mask()
    {
        Add(_globals, ParameterDef.Flag("int8_mask", false, "accepted for mergekit compatibility; masks are exact either way"));
        return this;
    }

    /// <summary>Appends a declaration; a recipe names parameters without saying global or per model, so names are unique across both.</summary>
    int Add(List<ParameterDef> list, ParameterDef def)
    {
        if (_globals.Concat(_perModel).Any(p => p.Name == def.Name)) throw new InvalidOperationException($"parameter '{def.Name}' is declared twice");
        list.Add(def);
        return list.Count - 1;
    }
}

/// <summary>A declared global number; read it with <c>input[handle]</c> or, from raw resolved values, <see cref="Of"/>.</summary>
public readonly struct GlobalNumber
{
    readonly int _slot;

    internal GlobalNumber(int index) => _slot = index + 1;

    /// <summary>Position in the declared globals (a default handle, never declared, throws).</summary>
    internal int Index => _slot > 0 ? _slot - 1 : throw new InvalidOperationException("parameter handle used before it was declared");

    public double Of(IReadOnlyList<double> globals) => globals[Index];
}

/// <summary>A declared global boolean (carried as 0/1).</summary>
public readonly struct GlobalFlag
{
    readonly int _slot;

    internal GlobalFlag(int index) => _slot = index + 1;

    internal int Index => _slot > 0 ? _slot - 1 : throw new InvalidOperationException("parameter handle used before it was declared");

    public bool Of(IReadOnlyList<double> globals) => globals[Index] != 0;
}

/// <summary>A declared per-model number; read it with <c>input[handle, model]</c>.</summary>
public readonly struct ModelNumber
{
    readonly int _slot;

    internal ModelNumber(int index) => _slot = index + 1;

    internal int Index => _slot > 0 ? _slot - 1 : throw new InvalidOperationException("parameter handle used before it was declared");

    /// <summary>The value from one model's resolved values.</summary>
    public double Of(IReadOnlyList<double> modelValues) => modelValues[Index];
}
