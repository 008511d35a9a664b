using System.Globalization;
using System.Text;
using EvoMerge.Anatomy;

namespace EvoMerge.Merge.Recipes;

/// <summary>
/// Writes a grouped recipe (a decoded PS genome) as a mergekit YAML config, so that the found merge can be reproduced with
/// <c>evomerge merge</c> or mergekit itself. Per-group values become mergekit's per-layer value lists (one entry
/// per layer, so mergekit's interpolation lands exactly on each layer) under tensor-name filters; the first
/// matching filter wins in mergekit, so the specific filters come first. A diffusion checkpoint's recipe (given its
/// <paramref name="anatomy"/>) selects by place instead (<c>module:</c>, <c>part:</c>, <c>layers:</c>), which EvoMerge reads
/// and mergekit does not, and lists the recipe's <c>components:</c>.
/// </summary>
public static class MergekitRecipeWriter
{
    /// <param name="globals">Fixed global parameters of the method (ps.globals).</param>
    /// <param name="anatomy">The reference model's anatomy; null or a language model's: mergekit's tensor-name filters.</param>
    public static string Write(GroupedRecipe recipe, int layerCount, IReadOnlyDictionary<string, double>? globals = null, string dtype = "bfloat16",
        ModelAnatomy? anatomy = null)
    {
        bool diffusion = anatomy?.IsDiffusion == true;
        var y = new StringBuilder();
        y.AppendLine($"merge_method: {recipe.Method}");
        if (recipe.BaseModel != null) y.AppendLine($"base_model: {Quote(recipe.BaseModel)}");
        y.AppendLine($"dtype: {dtype}");
        if (globals is { Count: > 0 })
        {
            y.AppendLine("parameters:");
            foreach (var (name, value) in globals) y.AppendLine($"  {name}: {Number(value)}");
        }
        y.AppendLine("models:");
        for (int m = 0; m < recipe.Models.Count; m++)
        {
            y.AppendLine($"  - model: {Quote(recipe.Models[m])}");
            y.AppendLine("    parameters:");
            foreach (var parameter in recipe.Parameters)
            {
                y.AppendLine($"      {parameter}:");
                foreach (var (filter, value) in diffusion ? DiffusionRules(recipe, m, parameter, layerCount) : Rules(recipe, m, parameter, layerCount))
                {
                    y.AppendLine(filter == null ? $"        - value: {value}" : $"        - filter: {filter}");
                    if (filter != null) y.AppendLine($"          value: {value}");
                }
            }
        }
        if (recipe.Components is { Count: > 0 } components)
        {
            y.AppendLine("components:");
            foreach (var (component, model) in components) y.AppendLine($"  {component}: {Quote(model)}");
        }
        if (recipe.Loras is { Count: > 0 } loras)
        {
            y.AppendLine("loras:");
            foreach (var lora in loras) y.AppendLine($"  - {{path: {Quote(lora.Path)}, strength: {Number(lora.Strength)}}}");
        }
        return y.ToString();
    }

    /// <summary>
    /// A diffusion checkpoint's rules: text encoders and VAE by module, then the UNet's attention and the rest of its
    /// blocks per block (one entry per block, so the gradient lands exactly on each), then UNet tensors outside the blocks.
    /// </summary>
    static IEnumerable<(string? Filter, string Value)> DiffusionRules(GroupedRecipe recipe, int model, string parameter, int blocks)
    {
        string At(TensorPlace place) => Number(recipe.Value(recipe.GroupOf(place), model, parameter));
        string PerBlock(TensorPart part) => Values(Enumerable.Range(0, blocks)
            .Select(b => recipe.Value(recipe.GroupOf(TensorPlace.OfLayer(b, part, ModelModule.Unet)), model, parameter)).ToList());
        foreach (var (name, module) in new[] { ("text_encoder", ModelModule.TextEncoder), ("text_encoder_2", ModelModule.TextEncoder2), ("vae", ModelModule.Vae) })
            yield return ($"\"module:{name}\"", At(TensorPlace.Of(TensorRole.Other, module)));
        yield return ("\"part:attention\"", PerBlock(TensorPart.Attention));
        yield return ($"\"layers:0-{blocks - 1}\"", PerBlock(TensorPart.Convolution));
        yield return (null, At(TensorPlace.Of(TensorRole.Other, ModelModule.Unet)));
    }

    /// <summary>(filter or null for the default, value text) in the order mergekit should try them.</summary>
    static IEnumerable<(string? Filter, string Value)> Rules(GroupedRecipe recipe, int model, string parameter, int layerCount)
    {
        string Outside(string tensor) => Number(recipe.Value(recipe.GroupOf(Llama.Place(tensor)), model, parameter));
        string PerLayer(string tensorSuffix) => Values(Enumerable.Range(0, layerCount)
            .Select(l => recipe.Value(recipe.GroupOf(Llama.Place($"model.layers.{l}.{tensorSuffix}")), model, parameter)).ToList());

        yield return ("embed_tokens", Outside("model.embed_tokens.weight"));
        yield return ("lm_head", Outside("lm_head.weight"));
        yield return ("model.norm", Outside("model.norm.weight"));
        string attention = PerLayer("self_attn.q_proj.weight"), mlp = PerLayer("mlp.up_proj.weight");
        if (attention == mlp) { yield return (null, attention); yield break; }
        yield return ("self_attn", attention);
        yield return ("input_layernorm", attention);
        yield return ("mlp", mlp);
        yield return ("post_attention_layernorm", mlp);
    }

    /// <summary>The filters below name Llama-family tensors, as mergekit's do.</summary>
    static readonly ModelAnatomy Llama = ModelAnatomy.For("LlamaForCausalLM");

    static string Values(IReadOnlyList<double> perLayer) =>
        perLayer.All(v => v == perLayer[0]) ? Number(perLayer[0]) : "[" + string.Join(", ", perLayer.Select(Number)) + "]";

    static string Number(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    static string Quote(string s) => "'" + s.Replace("'", "''") + "'";
}
