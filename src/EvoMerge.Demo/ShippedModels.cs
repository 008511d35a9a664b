namespace EvoMerge.Demo;

/// <summary>Finds the models the project ships (<c>demo/models</c>) from the current folder or the program's folder upwards.</summary>
public static class ShippedModels
{
    public static string Find()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "demo", "models");
                if (File.Exists(Path.Combine(candidate, "base", "config.json"))) return candidate;
            }
        throw new EvoMergeException("demo/models (base/, ja/, math/) not found above the current folder or the program; pass --models DIR or run 'evomerge demo train'");
    }
}
