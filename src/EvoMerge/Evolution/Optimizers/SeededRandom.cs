using MathNet.Numerics.Distributions;
using MathNet.Numerics.Random;

namespace EvoMerge.Evolution.Optimizers;

/// <summary>
/// The random source of one optimiser: xoshiro256** seeded from the run's seed, standard normals by MathNet's
/// Box–Muller. Each optimiser owns one (never <c>Random.Shared</c>, never the clock), so the same seed and the same
/// told fitness values give the same candidates bit for bit, which is what resuming a run by replay relies on.
/// </summary>
internal sealed class SeededRandom(int seed)
{
    readonly Xoshiro256StarStar _source = new(seed, threadSafe: false);

    /// <summary>Uniform in [0, 1).</summary>
    public double Uniform() => _source.NextDouble();

    public double StandardNormal() => Normal.Sample(_source, 0, 1);

    /// <summary>Uniform integer in [0, count).</summary>
    public int Index(int count) => _source.Next(count);

    /// <summary>A seed for a child optimiser (e.g. after an IPOP restart), drawn from this one.</summary>
    public int NextSeed() => _source.Next();
}
