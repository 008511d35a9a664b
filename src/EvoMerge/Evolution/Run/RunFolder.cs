using System.Text.Json;
using EvoMerge.Evolution.Config;
using EvoMerge.IO;

namespace EvoMerge.Evolution.Run;

/// <summary>
/// The layout of a run folder (documented in docs/evolution.md):
/// <c>config.json</c>, <c>journal.jsonl</c>, <c>workers.json</c> (cluster runs), <c>&lt;stage&gt;/optimizer/gen-NNNN.json</c>,
/// <c>&lt;stage&gt;/best-recipe.yml</c> (PS) or <c>&lt;stage&gt;/best-path.json</c> (DFS), <c>ps/best-model/</c>
/// (ps+dfs: the PS result, model A of the DFS stage), <c>best-model/</c> and <c>summary.json</c>.
/// </summary>
public sealed class RunFolder(string root)
{
    public string Root { get; } = Path.GetFullPath(root);
    public string ConfigFile => Path.Combine(Root, "config.json");
    public string JournalFile => Path.Combine(Root, "journal.jsonl");
    public string SummaryFile => Path.Combine(Root, "summary.json");
    /// <summary>A cluster run's workers as the driver last saw them (<see cref="ClusterStatusFile"/>); absent in one process.</summary>
    public string WorkersFile => Path.Combine(Root, "workers.json");
    public string BestModel => Path.Combine(Root, "best-model");
    public string Stage(string stage) => Path.Combine(Root, stage);
    public string OptimizerSnapshot(string stage, int generation) => Path.Combine(Root, stage, "optimizer", $"gen-{generation:D4}.json");
    public string BestRecipe(string stage) => Path.Combine(Root, stage, "best-recipe.yml");
    /// <summary>The best M2N2 blend (a <c>BlendRecipe</c> as JSON).</summary>
    public string BestBlend(string stage) => Path.Combine(Root, stage, "best-blend.json");
    public string BestPath(string stage) => Path.Combine(Root, stage, "best-path.json");
    public string StageModel(string stage) => Path.Combine(Root, stage, "best-model");

    /// <summary>
    /// Makes the folder ready for a run: a fresh folder gets <c>config.json</c>; an existing run is continued only
    /// with <paramref name="resume"/> and an identical config (a changed config would silently mix two runs).
    /// </summary>
    public void Prepare(EvolutionConfig config, bool resume)
    {
        string json = JsonSerializer.Serialize(config with { BaseDirectory = Path.GetFullPath(config.BaseDirectory) }, RunJson.Indented);
        bool started = File.Exists(JournalFile) || File.Exists(ConfigFile);
        if (started && !resume)
            throw new EvoMergeException($"{Root}: already holds a run; pass --resume to continue it, or choose another --run-dir");
        if (!started && resume && Directory.Exists(Root) && Directory.EnumerateFileSystemEntries(Root).Any())
            throw new EvoMergeException($"{Root}: --resume given but the folder holds no run (config.json missing)");
        if (started && File.Exists(ConfigFile) && InputFile.ReadAllText(ConfigFile, InputFile.SmallFileBytes, "run config") != json)
            throw new EvoMergeException($"{ConfigFile}: the run was started with a different config; resume needs the same config file");
        RunJson.WriteAtomically(ConfigFile, json);
    }
}
