using EvoMerge.Evolution.Optimizers;

namespace EvoMerge.Tests.Evolution.Optimizers;

public class Nsga2Tests
{
    /// <summary>ZDT1 (Zitzler, Deb &amp; Thiele 2000), 30 variables: the Pareto front is f2 = 1 − √f1, f1 ∈ [0, 1].</summary>
    static double[] Zdt1(double[] x)
    {
        double g = 1 + 9 * x.Skip(1).Sum() / (x.Length - 1);
        return [x[0], g * (1 - Math.Sqrt(x[0] / g))];
    }

    static Nsga2 Run(int seed, int generations, int population = 100)
    {
        var nsga = new Nsga2(30, 2, new OptimizerOptions(Seed: seed, PopulationSize: population));
        for (int g = 0; g < generations; g++) nsga.Tell(nsga.Ask().Select(Zdt1).ToArray());
        return nsga;
    }

    [Fact]
    public void Approximates_the_known_ZDT1_front()
    {
        var front = Run(seed: 1, generations: 200).ParetoFront();
        // Inverted generational distance: mean distance from 1001 points of the true front to the nearest found point
        double igd = Enumerable.Range(0, 1001).Select(i =>
        {
            double f1 = i / 1000.0, f2 = 1 - Math.Sqrt(f1);
            return front.Min(p => Math.Sqrt(Math.Pow(p.Objectives[0] - f1, 2) + Math.Pow(p.Objectives[1] - f2, 2)));
        }).Average();
        // The other way: how far above the true front the found points lie, on average. Deb et al. 2002 (Table II)
        // report 0.033 for real-coded NSGA-II on ZDT1 after 25 000 evaluations (distance of the final population).
        double gap = front.Average(p => p.Objectives[1] - (1 - Math.Sqrt(p.Objectives[0])));
        Assert.True(igd < 0.01 && gap < 0.033, $"IGD {igd}, mean gap {gap}, {front.Count} points");
        Assert.True(front[0].Objectives[0] < 0.01 && front[^1].Objectives[0] > 0.99, "the front does not span f1 ∈ [0, 1]");
    }

    [Fact]
    public void Front_is_mutually_non_dominated_and_sorted()
    {
        var front = Run(seed: 2, generations: 20, population: 20).ParetoFront();
        foreach (var a in front)
            foreach (var b in front)
                Assert.False(ParetoRanking.Dominates(a.Objectives, b.Objectives));
        Assert.Equal(front.OrderBy(p => p.Objectives[0]).Select(p => p.Objectives[0]), front.Select(p => p.Objectives[0]));
    }

    [Fact]
    public void Candidates_stay_in_the_box()
    {
        var nsga = new Nsga2(5, 2, new OptimizerOptions(Seed: 4, PopulationSize: 30));
        for (int g = 0; g < 30; g++)
        {
            var candidates = nsga.Ask();
            Assert.All(candidates, x => Assert.All(x, v => Assert.InRange(v, 0.0, 1.0)));
            // optimum corner (0,…,0) vs (1,…,1): children pile up against the bounds
            nsga.Tell(candidates.Select(x => new[] { x.Sum(), x.Sum(v => 1 - v) + (x[0] - 1) * (x[0] - 1) }).ToArray());
        }
    }

    [Fact]
    public void Odd_population_and_NaN_objectives_are_handled()
    {
        var nsga = new Nsga2(3, 2, new OptimizerOptions(Seed: 1, PopulationSize: 7));
        for (int g = 0; g < 5; g++)
        {
            var candidates = nsga.Ask();
            Assert.Equal(7, candidates.Count);
            nsga.Tell(candidates.Select((x, k) => k == 0 ? [double.NaN, 0.0] : new[] { x[0], 1 - x[0] }).ToArray());
        }
        Assert.All(nsga.ParetoFront(), p => Assert.True(double.IsFinite(p.Objectives[0])));
        Assert.Throws<ArgumentException>(() => { nsga.Ask(); nsga.Tell(Enumerable.Repeat(new[] { 1.0 }, 7).ToArray()); });
    }
}
