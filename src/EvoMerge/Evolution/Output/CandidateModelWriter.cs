using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.Recipes;
using EvoMerge.Evolution.Spaces;
using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Output;
using EvoMerge.Merge.Recipes;

namespace EvoMerge.Evolution.Output;

/// <summary>
/// Writes a found candidate as a Hugging Face model folder (no TorchSharp needed). A PS recipe goes through the
/// same path as <c>evomerge merge</c> on the mergekit YAML the run folder holds, with the DARE seed the search used,
/// so the folder holds exactly the model that was scored; a DFS path becomes a layer-stacked model.
/// </summary>
public static class CandidateModelWriter
{
    /// <summary>The DARE/DELLA mask seed of every candidate merge of a run (the same recipe gives the same model).</summary>
    public static ulong MergeSeed(EvolutionConfig config) => (ulong)config.Seed;

    public static void Write(Candidate candidate, string folder, EvolutionConfig config, int layerCount, string dtype = "bfloat16")
    {
        switch (candidate)
        {
            case PsCandidate { Recipe: var recipe }:
                string yaml = MergekitRecipeWriter.Write(recipe, layerCount, config.Ps.Globals, dtype);
                var planned = RecipePlanner.Plan(RecipeParser.Parse(yaml, "best-recipe.yml"));
                MergedModelWriter.Write(planned, folder, new MergeOptions { Seed = MergeSeed(config) });
                break;
            case DfsCandidate { Path: var path }:
                LayerStackWriter.Write(path, folder);
                break;
            default:
                throw new ArgumentException($"{candidate.GetType().Name} is a model already; nothing to write", nameof(candidate));
        }
    }
}
