using EvoMerge.Candidates;
using EvoMerge.IO;
using EvoMerge.Lora.Folding;
using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Output;
using EvoMerge.Merge.Recipes;

namespace EvoMerge.Evolution.Output;

/// <summary>
/// Writes a build as a Hugging Face model folder (no TorchSharp needed). A merge goes through the same path as
/// <c>evomerge merge</c> on the mergekit YAML the run folder holds, with the build's mask seed, so the folder holds
/// exactly the model that was scored; a layer path becomes a layer-stacked model.
/// </summary>
public static class CandidateModelWriter
{
    /// <param name="layerCount">Decoder layers of the build's reference model.</param>
    public static void Write(ModelBuild build, string folder, int layerCount, string dtype = "bfloat16")
    {
        switch (build)
        {
            case MergeBuild merge:
                string yaml = MergekitRecipeWriter.Write(merge.Recipe, layerCount, merge.Globals, dtype,
                    ModelFolder.AnatomyOf(LoraReference.Split(merge.Recipe.ReferenceModel).Model));
                WriteRecipe(yaml, "best-recipe.yml", folder, merge.Seed);
                break;
            case SourceBuild { Model: var model } when LoraReference.Split(model).Lora != null:
                // A model+lora source as its own folder: mergekit's passthrough of the one reference folds the LoRA in.
                WriteRecipe($"merge_method: passthrough\nmodels:\n  - model: '{model.Replace("'", "''")}'\ndtype: {dtype}\n", "source.yml", folder, 0);
                break;
            case BlendBuild { Recipe: var blend }:
                BlendModelWriter.Write(blend, folder, dtype);
                break;
            case PathBuild { Path: var path }:
                LayerStackWriter.Write(path, folder);
                break;
            default:
                throw new ArgumentException($"{build.GetType().Name} is a model already; nothing to write", nameof(build));
        }
    }

    static void WriteRecipe(string yaml, string name, string folder, ulong seed)
    {
        using var planned = RecipePlanner.Plan(RecipeParser.Parse(yaml, name));
        MergedModelWriter.Write(planned, folder, new MergeOptions { Seed = seed });
    }
}
