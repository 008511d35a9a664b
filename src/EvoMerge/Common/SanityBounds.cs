namespace EvoMerge;

/// <summary>
/// Upper bounds on counts that come from files, far above any real model or run, so that a 100-byte hostile file
/// (<c>layers.2147483646</c>, <c>population: 1000000000</c>) is a clean error and not a loop over 2³¹ layers or an
/// allocation of gigabytes. One place, so every reader agrees.
/// </summary>
public static class SanityBounds
{
    /// <summary>Decoder layers (and layer indices, gradient lengths, layer ranges); the largest models have a few hundred.</summary>
    public const int MaxLayers = 10_000;

    /// <summary>Tensors in one safetensors file or index; the largest checkpoints hold tens of thousands.</summary>
    public const int MaxTensors = 1_000_000;

    /// <summary>Candidates per generation (and other per-generation counts) of an evolution.</summary>
    public const int MaxPopulation = 100_000;
}
