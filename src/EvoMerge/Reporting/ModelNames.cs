namespace EvoMerge.Reporting;

/// <summary>How reports and the dashboard label a model: a folder by its last name, a Hugging Face id by its name.</summary>
public static class ModelNames
{
    public static string Short(string model) =>
        Path.GetFileName(model.TrimEnd('/', Path.DirectorySeparatorChar)) is { Length: > 0 } name ? name : model;
}
