using System.Text.Json.Serialization;

namespace EvoMerge.Evolution.Spaces;

/// <summary>What an evaluator is asked to score: a decoded genome, or one of the source models as a reference.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(PsCandidate), "ps")]
[JsonDerivedType(typeof(DfsCandidate), "dfs")]
[JsonDerivedType(typeof(SourceCandidate), "source")]
public abstract record Candidate;

/// <summary>A parameter-space merge recipe, to be merged into the resident model's weights.</summary>
public sealed record PsCandidate(PsRecipe Recipe) : Candidate;

/// <summary>A data-flow path over the layers of several models.</summary>
public sealed record DfsCandidate(LayerPath Path) : Candidate;

/// <summary>A model as it is (the sources scored on the test split for comparison).</summary>
public sealed record SourceCandidate(string Model) : Candidate;
