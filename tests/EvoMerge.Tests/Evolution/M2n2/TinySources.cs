using EvoMerge.Merge.Execution;

namespace EvoMerge.Tests.Evolution.M2n2;

/// <summary>
/// Small random source models with Llama tensor names, in memory. <see cref="FlattenedOrder"/> is the order M2N2
/// lays them out in, written down by hand from the rule (embeddings; each layer's attention, then MLP, by name;
/// final norm; head), to check the library's order against.
/// </summary>
static class TinySources
{
    public static readonly (string Name, long[] Shape)[] FlattenedOrder =
    [
        ("model.embed_tokens.weight", [6, 4]),
        ("model.layers.0.input_layernorm.weight", [4]),
        ("model.layers.0.self_attn.q_proj.weight", [4, 4]),
        ("model.layers.0.mlp.up_proj.weight", [5, 4]),
        ("model.layers.0.post_attention_layernorm.weight", [4]),
        ("model.layers.1.input_layernorm.weight", [4]),
        ("model.layers.1.self_attn.q_proj.weight", [4, 4]),
        ("model.layers.1.mlp.up_proj.weight", [5, 4]),
        ("model.layers.1.post_attention_layernorm.weight", [4]),
        ("model.norm.weight", [4]),
        ("lm_head.weight", [6, 4]),
    ];

    public static long Total => FlattenedOrder.Sum(t => t.Shape.Aggregate(1L, (a, b) => a * b));

    /// <summary><paramref name="count"/> sources, tensors added in a scrambled (file-like, alphabetical) order.</summary>
    public static List<InMemoryWeights> Create(int count, int seed, double spread = 1)
    {
        var random = new Random(seed);
        var shared = FlattenedOrder.ToDictionary(t => t.Name, t => Values(t.Shape, random, 1));
        return Enumerable.Range(0, count).Select(m =>
        {
            var w = new InMemoryWeights($"/m/source{m}");
            foreach (var (name, shape) in FlattenedOrder.OrderBy(t => t.Name, StringComparer.Ordinal))
            {
                // Fine-tunes of one base: the shared part plus a model-specific difference.
                var own = Values(shape, random, spread);
                w.Add(name, shape, shared[name].Zip(own, (a, b) => a + b).ToArray());
            }
            return w;
        }).ToList();
    }

    static float[] Values(long[] shape, Random random, double scale) =>
        Enumerable.Range(0, (int)shape.Aggregate(1L, (a, b) => a * b)).Select(_ => (float)(scale * (random.NextDouble() * 2 - 1))).ToArray();
}
