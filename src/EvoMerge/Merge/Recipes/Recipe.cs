namespace EvoMerge.Merge.Recipes;

/// <summary>One input of a slice (or an entry of <c>models</c>): a model reference, its layers and its parameters.</summary>
public sealed record RecipeSource(string Model, RecipeMark Mark, (int Start, int End)? LayerRange, RecipeMark LayerRangeMark,
    IReadOnlyDictionary<string, ParameterSetting> Parameters);

/// <summary>One <c>tokenizer.tokens</c> entry. <paramref name="Model"/> null means zeros; with <paramref name="Token"/>
/// or <paramref name="TokenId"/> the row is that token's of <paramref name="Model"/> (model_token), else the same
/// token's. <paramref name="Force"/>: the output row is this source's, not merged.</summary>
public sealed record TokenOverride(string TokenText, string? Model, string? Token, int? TokenId, bool Force, RecipeMark Mark);

/// <summary>A <c>components:</c> entry: a diffusion checkpoint's component taken whole from <paramref name="Model"/>, not merged.</summary>
public sealed record ComponentSource(string Component, string Model, RecipeMark Mark);
/// <summary>A module of mergekit's <c>modules:</c> form that EvoMerge copies from one VLM (vision tower, projector).</summary>
public sealed record RecipeModule(string Name, IReadOnlyList<RecipeSource> Models, RecipeMark Mark);

/// <summary>One entry of the recipe's <c>loras:</c> list: a LoRA folded into the merged result at <paramref name="Strength"/>.</summary>
public sealed record RecipeLora(string Path, double Strength, RecipeMark Mark);

/// <summary>One output slice: sources merged layer by layer, with slice-level parameters.</summary>
public sealed record RecipeSlice(IReadOnlyList<RecipeSource> Sources, IReadOnlyDictionary<string, ParameterSetting> Parameters, RecipeMark Mark);

/// <summary>
/// A mergekit YAML recipe as written (mergekit's schema plus <c>compat</c>): exactly one of <see cref="Models"/> and
/// <see cref="Slices"/>; every field keeps its position in the file for error messages.
/// </summary>
public sealed class Recipe
{
    public required string File { get; init; }

    /// <summary>The recipe text as read, copied into the merged model (mergekit_config.yml) and its card.</summary>
    public required string Text { get; init; }

    public required string MergeMethod { get; init; }

    public required RecipeMark MergeMethodMark { get; init; }

    public string? BaseModel { get; init; }

    public RecipeMark BaseModelMark { get; init; }

    public IReadOnlyList<RecipeSource>? Models { get; init; }

    public IReadOnlyList<RecipeSlice>? Slices { get; init; }

    public IReadOnlyDictionary<string, ParameterSetting> Parameters { get; init; } = new Dictionary<string, ParameterSetting>();

    /// <summary><c>modules.text_decoder.parameters</c>: between the slice's and the top-level ones in precedence.</summary>
    public IReadOnlyDictionary<string, ParameterSetting> ModuleParameters { get; init; } = new Dictionary<string, ParameterSetting>();

    /// <summary>The other modules of a <c>modules:</c> recipe (<c>vision_tower</c>, <c>multi_modal_projector</c>).</summary>
    public IReadOnlyList<RecipeModule> CopiedModules { get; init; } = [];

    /// <summary>mergekit's compute dtype; EvoMerge always computes in float32 and uses it only as the default output dtype.</summary>
    public string? Dtype { get; init; }

    public string? OutDtype { get; init; }

    public RecipeMark DtypeMark { get; init; }

    /// <summary><c>base</c>, <c>union</c> or a model reference; from <c>tokenizer_source</c> or <c>tokenizer.source</c>.</summary>
    public string? TokenizerSource { get; init; }

    public RecipeMark TokenizerMark { get; init; }

    /// <summary><c>tokenizer.tokens</c>: where a token's embedding row comes from in the union.</summary>
    public IReadOnlyList<TokenOverride> TokenOverrides { get; init; } = [];

    /// <summary>A mergekit built-in name (see <see cref="RecipeChatTemplates"/>) or a Jinja template written inline.</summary>
    public string? ChatTemplate { get; init; }

    public RecipeMark ChatTemplateMark { get; init; }

    /// <summary><c>loras:</c> (EvoMerge's, not mergekit's): LoRAs folded into the merged result, in order.</summary>
    public IReadOnlyList<RecipeLora> Loras { get; init; } = [];

    /// <summary><c>strict: true</c>: every warning is an error.</summary>
    public bool Strict { get; init; }

    /// <summary><c>mergekit</c> to follow mergekit's arithmetic where it deviates from the papers.</summary>
    public string? Compat { get; init; }

    public RecipeMark CompatMark { get; init; }

    /// <summary>
    /// <c>components:</c> of a diffusion recipe: which model supplies each component that is not merged
    /// (<c>text_encoder: jsdxl</c>, <c>vae: base</c>); see docs/diffusion.md.
    /// </summary>
    public IReadOnlyList<ComponentSource> Components { get; init; } = [];

    /// <summary>Things the parser accepted but will not act on.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>Every model the recipe names (base first when present), without duplicates.</summary>
    public IEnumerable<(string Model, RecipeMark Mark)> ReferencedModels()
    {
        var seen = new HashSet<string>();
        if (BaseModel != null && seen.Add(BaseModel)) yield return (BaseModel, BaseModelMark);
        foreach (var s in (Models ?? Slices!.SelectMany(sl => sl.Sources)).Concat(CopiedModules.SelectMany(m => m.Models)))
            if (seen.Add(s.Model)) yield return (s.Model, s.Mark);
        foreach (var c in Components)
            if (seen.Add(c.Model)) yield return (c.Model, c.Mark);
    }
}
