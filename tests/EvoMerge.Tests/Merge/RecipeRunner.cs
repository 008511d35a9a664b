using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Methods;
using EvoMerge.Merge.Output;
using EvoMerge.Merge.Recipes;

namespace EvoMerge.Tests.Merge;

/// <summary>A temp folder with generated models, where recipes are written, checked and merged as the CLI does.</summary>
sealed class RecipeRunner : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("evomerge-merge-").FullName;

    public string RecipePath => Path.Combine(Root, "recipe.yml");

    /// <summary>Writes the recipe ({root} is replaced by the temp folder) and plans it.</summary>
    public PlannedRecipe Plan(string yaml, MergeCompat? compat = null)
    {
        File.WriteAllText(RecipePath, yaml.Replace("{root}", Root));
        return RecipePlanner.Plan(RecipeParser.Load(RecipePath), compat);
    }

    /// <summary>Plans and merges into a new output folder; returns the folder.</summary>
    public string Merge(string yaml, string output = "out", ulong seed = 0, int threads = 2, MergeCompat? compat = null, int? blockElements = null)
    {
        using var planned = Plan(yaml, compat);
        string folder = Path.Combine(Root, output);
        MergedModelWriter.Write(planned, folder, new MergeOptions { Seed = seed, Threads = threads, Compat = planned.Compat, BlockElements = blockElements ?? new MergeOptions().BlockElements });
        return folder;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
