namespace EvoMerge.Merge.Methods;

/// <summary>
/// One parameter a merge method accepts, as a recipe names it. <see cref="Default"/> null means the recipe must give it.
/// Booleans are carried as 0/1 so that every parameter resolves through the same scalar/gradient/filter machinery.
/// </summary>
public sealed record ParameterDef(string Name, double? Default, string Description, bool IsBoolean = false)
{
    public static ParameterDef Number(string name, double? defaultValue, string description) => new(name, defaultValue, description);

    public static ParameterDef Flag(string name, bool defaultValue, string description) =>
        new(name, defaultValue ? 1 : 0, description, IsBoolean: true);
}
