using EvoMerge.Anatomy;
using EvoMerge.IO;

namespace EvoMerge.Merge.Recipes;

/// <summary>
/// A diffusion recipe's <c>components:</c> checked against the models: which model supplies each component that is
/// taken whole instead of merged. In a pipeline folder any component that model_index.json names can be taken
/// (<c>text_encoder</c>, <c>tokenizer</c>, <c>scheduler</c>, …), and a tokenizer follows its text encoder unless named;
/// in a single file the four weight components can. Every model of a diffusion recipe must share the reference's layout.
/// </summary>
public static class RecipeComponents
{
    /// <summary>Component → model, every entry checked; empty for a recipe without <c>components:</c>.</summary>
    public static IReadOnlyDictionary<string, string> Resolve(Recipe recipe, ModelFolder reference, IReadOnlyDictionary<string, ModelFolder> models)
    {
        var anatomy = reference.Anatomy;
        if (!anatomy.IsDiffusion)
        {
            if (recipe.Components.Count > 0)
                throw new EvoMergeException($"{recipe.Components[0].Mark}: components: only diffusion checkpoints (diffusers pipelines, single-file SD) have components; '{reference.Path}' is not one");
            return new Dictionary<string, string>();
        }
        foreach (var (name, model) in models)
            if (model.Anatomy.Diffusion != anatomy.Diffusion)
                throw new EvoMergeException($"{recipe.MergeMethodMark}: model '{name}' is {Describe(model.Anatomy.Diffusion)} but '{reference.Path}' is {Describe(anatomy.Diffusion)}; " +
                    "every checkpoint of a diffusion merge must use one layout (convert with diffusers' conversion scripts first)");
        var valid = Names(reference);
        var result = new Dictionary<string, string>();
        foreach (var c in recipe.Components)
        {
            if (!valid.Contains(c.Component))
                throw new EvoMergeException($"{c.Mark}: components: '{c.Component}' is not a component of '{reference.Path}'{NearestName.Suggest(c.Component, valid)}; valid: {string.Join(", ", valid)}");
            if (!result.TryAdd(c.Component, c.Model))
                throw new EvoMergeException($"{c.Mark}: components: '{c.Component}' is named twice");
            var source = models[c.Model];
            if (!Names(source).Contains(c.Component) || (Module(c.Component) is { } m && !source.Weights.Tensors.Any(t => source.Anatomy.DiffusionComponent(t.Name)?.Module == m)))
                throw new EvoMergeException($"{c.Mark}: components.{c.Component}: model '{c.Model}' has no {c.Component}");
        }
        // A tokenizer belongs to its text encoder: taking one without the other would feed it ids it does not know.
        foreach (var (encoder, tokenizer) in new[] { ("text_encoder", "tokenizer"), ("text_encoder_2", "tokenizer_2") })
            if (result.TryGetValue(encoder, out var model) && !result.ContainsKey(tokenizer) && valid.Contains(tokenizer) && Names(models[model]).Contains(tokenizer))
                result[tokenizer] = model;
        return result;
    }

    /// <summary>The modules of the weight components that are copied, not merged.</summary>
    public static IReadOnlySet<ModelModule> CopiedModules(IReadOnlyDictionary<string, string> components) =>
        components.Keys.Select(Module).OfType<ModelModule>().ToHashSet();

    /// <summary>The module a weight component holds (<c>unet</c> → UNet), null for tokenizers, scheduler and the like.</summary>
    public static ModelModule? Module(string component) =>
        ModelAnatomy.PipelineComponents.Where(c => c.Folder == component).Select(c => (ModelModule?)c.Module).FirstOrDefault();

    static List<string> Names(ModelFolder model) => model.Pipeline is { } pipeline
        ? pipeline.Index.Where(kv => !kv.Key.StartsWith('_') && kv.Value is System.Text.Json.Nodes.JsonArray).Select(kv => kv.Key).ToList()
        : ModelAnatomy.PipelineComponents.Select(c => c.Folder).ToList();

    static string Describe(DiffusionLayout? layout) => layout switch
    {
        DiffusionLayout.Pipeline => "a diffusers pipeline folder",
        DiffusionLayout.SingleFile => "a single-file checkpoint",
        DiffusionLayout.DiffusersUnet => "a diffusers UNet folder",
        _ => "not a diffusion checkpoint",
    };
}
