namespace EvoMerge.Anatomy;

/// <summary>The coarse parts a <see cref="TensorGroup"/> selects: outside the layers, embeddings or head; inside, attention or MLP.</summary>
public enum GroupPart
{
    /// <summary>Token embeddings, and anything else outside the layers that is not the head.</summary>
    Embeddings,
    Attention,
    /// <summary>The MLP of a decoder layer; in a UNet block, everything but attention (<see cref="TensorPart.Convolution"/>).</summary>
    Mlp,
    /// <summary>The final norm and the LM head.</summary>
    Head,
}

/// <summary>
/// A set of tensor places sharing one parameter value per model: the layers <see cref="FirstLayer"/>..
/// <see cref="LastLayer"/> (inclusive), restricted to <see cref="Parts"/>; <see cref="Parts"/> containing
/// <see cref="GroupPart.Embeddings"/> or <see cref="GroupPart.Head"/> means those tensors outside the layers.
/// </summary>
public sealed record TensorGroup(string Name, int FirstLayer, int LastLayer, IReadOnlyList<GroupPart> Parts)
{
    /// <summary>A VLM's vision tower and projector are in no group: a VLM merge copies them from the VLM, and their
    /// layer numbers are not the text decoder's.</summary>
    public bool Contains(TensorPlace place) => place.Module is not (ModelModule.VisionTower or ModelModule.Projector) && (place.Role == TensorRole.Layer
        ? Parts.Contains(place.Part is TensorPart.Mlp or TensorPart.Convolution ? GroupPart.Mlp : GroupPart.Attention) && place.Layer >= FirstLayer && place.Layer <= LastLayer
        : Parts.Contains(place.Role is TensorRole.Head or TensorRole.FinalNorm ? GroupPart.Head : GroupPart.Embeddings));

    /// <summary>The index of the first of <paramref name="groups"/> that holds <paramref name="place"/>.</summary>
    public static int IndexOf(IReadOnlyList<TensorGroup> groups, TensorPlace place)
    {
        for (int g = 0; g < groups.Count; g++)
            if (groups[g].Contains(place)) return g;
        throw new EvoMergeException($"no tensor group covers {place.Role}{(place.Layer >= 0 ? $" {place.Layer}" : "")} {place.Part}".TrimEnd());
    }
}
