using EvoMerge.Evolution.M2n2;
using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Recipes;
using EvoMerge.TestSupport;

namespace EvoMerge.Tests.Evolution.M2n2;

/// <summary>
/// A SLERP-with-split-point child computed on recipes (coefficients from the sources' Gram matrices) against the
/// reference code's definition applied directly, in float64, to the materialised parents, tensor by tensor:
/// t = w before the split point and 1 − w from it on, ω the angle between the parents' tensors, linear
/// interpolation when sin ω ≤ 1e-6.
/// </summary>
public class SplitSlerpTests
{
    static readonly string[] Models = ["/m/source0", "/m/source1", "/m/source2"];

    [Fact]
    public void The_flattened_order_follows_the_network_not_the_file()
    {
        var order = new FlatOrder(BlendExecutor.Plan(TinySources.Create(1, seed: 1).ToList<IWeightSource>()));
        Assert.Equal(TinySources.FlattenedOrder.Select(t => t.Name), order.Tensors.Select(t => t.Name));
        Assert.Equal(TinySources.Total, order.Total);
        Assert.Equal(24 + 4, order.Tensors[2].Offset);
    }

    public static TheoryData<double, long?> Splits => new()
    {
        { 0.3, 70 },      // inside layer 0's up_proj
        { 0.8, 24 },      // on a tensor boundary
        { 0.55, 0 },      // 1 − w everywhere
        { 0.2, null },    // no split point: w everywhere
    };

    [Theory]
    [MemberData(nameof(Splits))]
    public void A_child_equals_the_reference_slerp_of_the_materialised_parents(double w, long? split)
    {
        var sources = TinySources.Create(3, seed: 7);
        var plan = BlendExecutor.Plan(sources.ToList<IWeightSource>());
        var geometry = new SourceGeometry(plan);
        // Parents that are themselves children: coefficients change inside tensors (positions 10, 33, 100, 130).
        var x = new BlendRecipe(Models, [new(0, [0.7, 0.2, 0.1]), new(10, [0.1, 1.1, -0.2]), new(100, [0.3, 0.3, 0.4])]);
        var y = new BlendRecipe(Models, [new(0, [0.0, 0.4, 0.9]), new(33, [1.2, -0.1, 0.0]), new(130, [0.5, 0.5, 0.0])]);

        var child = SplitSlerp.Child(x, y, w, split, geometry);
        var target = new CollectingTarget();
        BlendExecutor.Run(plan, child, target, threads: 2);

        long offset = 0;
        foreach (var (name, shape) in TinySources.FlattenedOrder)
        {
            double[] px = Materialise(sources, x, name, offset), py = Materialise(sources, y, name, offset);
            var expected = ReferenceSlerp(px, py, w, split, offset);
            var actual = target[name];
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(actual[i] - expected[i]) <= 2e-6 * (1 + Math.Abs(expected[i])),
                    $"{name}[{i}]: {actual[i]} vs float64 {expected[i]}");
            offset += px.Length;
        }
    }

    [Fact]
    public void Parallel_parents_are_interpolated_linearly()
    {
        var sources = TinySources.Create(3, seed: 3);
        var geometry = new SourceGeometry(BlendExecutor.Plan(sources.ToList<IWeightSource>()));
        var x = BlendRecipe.Source(Models, 1);
        var y = new BlendRecipe(Models, [new(0, [0, 2, 0])]);   // 2·x: the angle is 0
        var child = SplitSlerp.Child(x, y, 0.25, null, geometry);
        Assert.All(child.Segments, s => Assert.Equal(1.25, s.Coefficients[1], 12));   // 0.75·x + 0.25·2x
    }

    static double[] Materialise(List<InMemoryWeights> sources, BlendRecipe recipe, string name, long offset)
    {
        var values = new double[sources[0].Get(name).Length];
        for (int i = 0; i < values.Length; i++)
        {
            var c = recipe.Segments.Last(s => s.Start <= offset + i).Coefficients;
            for (int m = 0; m < sources.Count; m++) values[i] += c[m] * sources[m].Get(name)[i];
        }
        return values;
    }

    /// <summary>The reference code's slerp_w_splitpoint, on one tensor whose first element sits at flattened position <paramref name="offset"/>.</summary>
    static double[] ReferenceSlerp(double[] x, double[] y, double w, long? split, long offset)
    {
        double nx = Math.Sqrt(x.Sum(v => v * v)), ny = Math.Sqrt(y.Sum(v => v * v));
        double dot = x.Zip(y, (a, b) => a / nx * (b / ny)).Sum();
        double omega = Math.Acos(Math.Clamp(dot, -1, 1)), sin = Math.Sin(omega);
        var result = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double t = split is long s && offset + i >= s ? 1 - w : w;
            result[i] = sin > 1e-6
                ? Math.Sin((1 - t) * omega) / sin * x[i] + Math.Sin(t * omega) / sin * y[i]
                : (1 - t) * x[i] + t * y[i];
        }
        return result;
    }
}
