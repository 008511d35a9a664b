using System.Text.Json.Serialization;

namespace EvoMerge.Evaluation;

/// <summary>
/// Which items of a task to score: all, the first N, a seeded random sample of N, or a fixed list of indices.
/// Resolving is O(N) and allocation-light, because evolution asks for a fresh minibatch for every generation.
/// Serialisable as JSON: a cluster sends it to remote workers as part of the resolved work.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "subset")]
[JsonDerivedType(typeof(AllItems), "all")]
[JsonDerivedType(typeof(FirstItems), "first")]
[JsonDerivedType(typeof(SampledItems), "sample")]
[JsonDerivedType(typeof(IndexList), "indices")]
public abstract record Subset
{
    public static Subset All { get; } = new AllItems();
    public static Subset First(int count) => new FirstItems(count);
    public static Subset Sample(int count, int seed) => new SampledItems(count, seed);
    public static Subset Indices(IReadOnlyList<int> indices) => new IndexList(indices);

    /// <summary>The chosen indices into a task of <paramref name="itemCount"/> items, ascending unless given as a list.</summary>
    public abstract int[] Resolve(int itemCount);

    sealed record AllItems : Subset
    {
        public override int[] Resolve(int itemCount) => Enumerable.Range(0, itemCount).ToArray();
    }

    sealed record FirstItems(int Count) : Subset
    {
        public override int[] Resolve(int itemCount) => Enumerable.Range(0, Math.Min(CheckCount(Count), itemCount)).ToArray();
    }

    /// <summary>Partial Fisher–Yates over a seeded <see cref="Random"/> (whose seeded sequence .NET keeps stable).</summary>
    sealed record SampledItems(int Count, int Seed) : Subset
    {
        public override int[] Resolve(int itemCount)
        {
            int take = Math.Min(CheckCount(Count), itemCount);
            var order = Enumerable.Range(0, itemCount).ToArray();
            var random = new Random(Seed);
            for (int i = 0; i < take; i++)
            {
                int j = random.Next(i, itemCount);
                (order[i], order[j]) = (order[j], order[i]);
            }
            var chosen = order[..take];
            Array.Sort(chosen);
            return chosen;
        }
    }

    sealed record IndexList(IReadOnlyList<int> Chosen) : Subset
    {
        public override int[] Resolve(int itemCount)
        {
            foreach (int i in Chosen)
                if (i < 0 || i >= itemCount)
                    throw new EvoMergeException($"subset index {i} is outside the task's items (expected 0..{itemCount - 1})");
            return Chosen.ToArray();
        }
    }

    static int CheckCount(int count) => count >= 0
        ? count
        : throw new EvoMergeException($"subset size must not be negative (got {count})");
}
