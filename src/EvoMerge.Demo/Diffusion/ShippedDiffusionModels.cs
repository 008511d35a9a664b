namespace EvoMerge.Demo.Diffusion;

/// <summary>Finds the diffusion models the project ships (<c>demo/models/diffusion</c>) from the current folder or the program's folder upwards.</summary>
public static class ShippedDiffusionModels
{
    public static string Find()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "demo", "models", "diffusion");
                if (File.Exists(Path.Combine(candidate, DiffusionDemoTrainer.Japanese, "model_index.json"))) return candidate;
            }
        throw new EvoMergeException("demo/models/diffusion (base/, ja/, lightning/, judge/) not found above the current folder or the program; pass --models DIR or run 'evomerge demo train diffusion'");
    }
}
