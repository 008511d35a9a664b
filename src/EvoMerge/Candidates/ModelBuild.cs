using System.Text.Json.Serialization;
using EvoMerge.Merge.Recipes;

namespace EvoMerge.Candidates;

/// <summary>
/// What an evaluator is asked to build: a candidate resolved by the search into plain data, with nothing left to
/// look up in the search's config. A decoded genome is one (a merge or a layer path); so is a source model scored
/// for comparison. Serialised in the run's journal, and it is all a remote worker needs besides the source models.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(MergeBuild), "merge")]
[JsonDerivedType(typeof(PathBuild), "path")]
[JsonDerivedType(typeof(SourceBuild), "source")]
[JsonDerivedType(typeof(BlendBuild), "blend")]
public abstract record ModelBuild
{
    /// <summary>The model whose tokenizer, config and layer structure the built model has.</summary>
    [JsonIgnore]
    public abstract string ReferenceModel { get; }

    /// <summary>Every model folder the build reads.</summary>
    [JsonIgnore]
    public abstract IReadOnlyList<string> SourceModels { get; }
}

/// <summary>
/// A parameter-space merge: a method with its per-model parameters bound to tensor places (<paramref name="Recipe"/>),
/// its global parameters, and the seed of DARE/DELLA masks (the same recipe and seed give the same model).
/// </summary>
public sealed record MergeBuild(GroupedRecipe Recipe, IReadOnlyDictionary<string, double> Globals, ulong Seed) : ModelBuild
{
    public override string ReferenceModel => Recipe.ReferenceModel;

    public override IReadOnlyList<string> SourceModels => Recipe.BaseModel is { } b ? [b, .. Recipe.Models] : Recipe.Models;
}

/// <summary>A data-flow path over the layers of several models.</summary>
public sealed record PathBuild(LayerPath Path) : ModelBuild
{
    public override string ReferenceModel => Path.Models[0];

    public override IReadOnlyList<string> SourceModels => Path.Models;
}

/// <summary>A model as it is (the sources, scored on the test split for comparison).</summary>
public sealed record SourceBuild(string Model) : ModelBuild
{
    public override string ReferenceModel => Model;

    public override IReadOnlyList<string> SourceModels => [Model];
}

/// <summary>
/// A linear combination of the sources with coefficients that change at positions of the flattened parameter order
/// (an M2N2 archive member; see <see cref="BlendRecipe"/>).
/// </summary>
public sealed record BlendBuild(BlendRecipe Recipe) : ModelBuild
{
    public override string ReferenceModel => Recipe.Models[0];

    public override IReadOnlyList<string> SourceModels => Recipe.Models;
}
