using EvoMerge.TestSupport;
using EvoMerge.Merge;
using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Methods;

namespace EvoMerge.Tests.Merge;

public class MergeSessionTests
{
    static InMemoryWeights Model(string label, float offset) => new InMemoryWeights(label)
        .Add("model.embed_tokens.weight", [2, 2], [offset, offset + 1, offset + 2, offset + 3])
        .Add("model.layers.0.mlp.up_proj.weight", [2], [offset, -offset])
        .Add("model.layers.1.mlp.up_proj.weight", [2], [2 * offset, 1]);

    [Fact]
    public void Task_arithmetic_uses_each_groups_weights()
    {
        var b = Model("base", 0);
        var a = Model("a", 1);
        var c = Model("c", 2);
        var session = MergeSession.Create(MergeMethods.Get("task_arithmetic"), b, [a, c]);
        // Group 0: embeddings; group 1: layer 0; group 2: layer 1.
        var p = new GroupedParameters(session.Plan.Method, 2, 3, LayerGroups.Contiguous(session.LayerCount, 2));
        for (int g = 0; g < 3; g++) { p.Set(0, g, "weight", g); p.Set(1, g, "weight", 0.5); }
        var target = new CollectingTarget();
        session.Merge(p, seed: 1, target);

        // Hand-computed: base + w_a (a − base) + w_c (c − base).
        // embed: τ_a = 1, τ_c = 2 everywhere; weights 0 and 0.5 → base + 1.
        Assert.Equal([1f, 2, 3, 4], target["model.embed_tokens.weight"]);
        // layer 0: base [0,0], τ_a = [1,-1], τ_c = [2,-2]; weights 1, 0.5 → [2, -2].
        Assert.Equal([2f, -2], target["model.layers.0.mlp.up_proj.weight"]);
        // layer 1: base [0,1], τ_a = [2,0], τ_c = [4,0]; weights 2, 0.5 → [6, 1].
        Assert.Equal([6f, 1], target["model.layers.1.mlp.up_proj.weight"]);
    }

    [Fact]
    public void Dare_output_is_identical_across_thread_counts_and_repeats()
    {
        var rng = new Random(3);
        InMemoryWeights Random(string label)
        {
            var w = new InMemoryWeights(label);
            for (int l = 0; l < 6; l++) w.Add($"model.layers.{l}.w", [64, 33], Enumerable.Range(0, 64 * 33).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray());
            return w;
        }
        var b = Random("base");
        var models = new[] { Random("a"), Random("b"), Random("c") };
        var session = MergeSession.Create(MergeMethods.Get("dare_ties"), b, models);
        var p = new GroupedParameters(session.Plan.Method, 3, 1, _ => 0);
        for (int m = 0; m < 3; m++) p.SetAllGroups(m, "weight", 0.4 + m * 0.1).SetAllGroups(m, "density", 0.3);
        var one = new CollectingTarget();
        var four = new CollectingTarget();
        session.Merge(p, 99, one, threads: 1);
        session.Merge(p, 99, four, threads: 4);
        foreach (var name in one.Tensors.Keys) Assert.Equal(one[name], four[name]);
        var other = new CollectingTarget();
        session.Merge(p, 100, other, threads: 2);
        Assert.NotEqual(one["model.layers.0.w"], other["model.layers.0.w"]);
    }

    [Fact]
    public void Missing_required_parameter_names_it()
    {
        var session = MergeSession.Create(MergeMethods.Get("ties"), Model("base", 0), [Model("a", 1)]);
        var p = new GroupedParameters(session.Plan.Method, 1, 1, _ => 0);
        var e = Assert.Throws<EvoMergeException>(() => session.Merge(p, 0, new CollectingTarget()));
        Assert.Contains("'weight'", e.Message);
        Assert.Contains("(did you mean 'density'?)", Assert.Throws<EvoMergeException>(() => p.Set(0, 0, "densty", 1)).Message);
    }
}

public class RowBlockTests
{
    sealed class BlockCollector : IMergeBlockTarget
    {
        public readonly Dictionary<string, float[]> Tensors = new();
        public int Blocks;

        public void Accept(string name, ReadOnlySpan<long> shape, ReadOnlySpan<float> values)
        {
            lock (Tensors) Tensors[name] = values.ToArray();
        }

        public void AcceptBlock(string name, ReadOnlySpan<long> shape, long elementOffset, ReadOnlySpan<float> values)
        {
            lock (Tensors)
            {
                Blocks++;
                if (!Tensors.TryGetValue(name, out var all)) Tensors[name] = all = new float[shape[0] * shape[1]];
                values.CopyTo(all.AsSpan((int)elementOffset));
            }
        }
    }

    [Theory]
    [InlineData("dare_ties")]
    [InlineData("linear")]
    public void Streaming_in_row_blocks_gives_the_same_bits_as_whole_tensors(string methodName)
    {
        var rng = new Random(5);
        InMemoryWeights Random(string label) => new InMemoryWeights(label)
            .Add("model.layers.0.w", [37, 29], Enumerable.Range(0, 37 * 29).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray());
        var method = MergeMethods.Get(methodName);
        var plan = MergePlan.ForModels(method, Random("base"), [Random("a"), Random("b")]);
        var p = new GroupedParameters(method, 2, 1, _ => 0);
        for (int m = 0; m < 2; m++)
        {
            p.SetAllGroups(m, "weight", 0.6 - 0.2 * m);
            if (methodName == "dare_ties") p.SetAllGroups(m, "density", 0.4);
        }
        var whole = new CollectingTarget();
        var blocks = new BlockCollector();
        MergeExecutor.Run(plan, p, whole, new MergeOptions { Seed = 8, Threads = 1 });
        MergeExecutor.Run(plan, p, blocks, new MergeOptions { Seed = 8, Threads = 2, BlockElements = 100 });
        Assert.True(blocks.Blocks >= 10, $"only {blocks.Blocks} blocks");
        Assert.Equal(whole["model.layers.0.w"], blocks.Tensors["model.layers.0.w"]);
    }

    [Fact]
    public void Slerp_streams_in_two_passes_and_matches_the_whole_tensor()
    {
        var rng = new Random(6);
        InMemoryWeights Random(string label) => new InMemoryWeights(label)
            .Add("model.layers.0.w", [37, 29], Enumerable.Range(0, 37 * 29).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray());
        var method = MergeMethods.Get("slerp");
        var plan = MergePlan.ForModels(method, Random("base"), [Random("a")]);
        var p = new GroupedParameters(method, 1, 1, _ => 0).SetGlobal("t", 0.3);
        var whole = new CollectingTarget();
        var blocks = new BlockCollector();
        MergeExecutor.Run(plan, p, whole, new MergeOptions { Threads = 1 });
        MergeExecutor.Run(plan, p, blocks, new MergeOptions { Threads = 2, BlockElements = 100 });
        Assert.True(blocks.Blocks >= 10, $"only {blocks.Blocks} blocks");
        // The norms and dot product are summed block by block, so only their rounding may differ.
        float[] expected = whole["model.layers.0.w"], actual = blocks.Tensors["model.layers.0.w"];
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-6f, $"element {i}: {actual[i]} vs {expected[i]}");
    }
}
