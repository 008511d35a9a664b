using EvoMerge.Evolution.M2n2;
using EvoMerge.Evolution.Optimizers;
using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Recipes;

namespace EvoMerge.Tests.Evolution.M2n2;

/// <summary>
/// α = 0 without attraction is the reference code's "ga" method: a steady-state GA with fitness-proportional
/// selection on raw scores and replace-the-worst. Written out here from that description, it must keep the same
/// archive as M2N2 step by step when both draw from the same random stream (parent 1, parent 2, w, split point).
/// With sharing (α = 1) the archives part ways.
/// </summary>
public class PlainGaTests
{
    static readonly string[] Models = ["/m/source0", "/m/source1"];
    const int Slots = 5, Steps = 60;

    [Fact]
    public void Alpha_zero_without_attraction_keeps_the_archive_of_a_plain_steady_state_GA()
    {
        var (m2n2, ga) = (Run(alpha: 0), PlainGa());
        Assert.True(ga.Distinct().Count() > 10, "children must enter the archive for the comparison to mean anything");
        Assert.Equal(ga.Count, m2n2.Count);
        for (int step = 0; step < ga.Count; step++) Assert.Equal(ga[step], m2n2[step]);
    }

    [Fact]
    public void With_sharing_the_archive_differs_from_the_plain_GA()
    {
        Assert.NotEqual(PlainGa(), Run(alpha: 1));
    }

    static SourceGeometry Geometry() => new(BlendExecutor.Plan(TinySources.Create(2, seed: 11).ToList<IWeightSource>()));

    /// <summary>The archive (member id per slot, −1 empty) after each tell.</summary>
    static List<string> Run(double alpha)
    {
        var geometry = Geometry();
        var optimizer = new M2n2Optimizer(new M2n2Config { ArchiveSize = Slots, Alpha = alpha, Attraction = false }, Models, geometry, seed: 4);
        var values = Enumerable.Repeat(1.0 / BlendFakeEvaluator.Items, BlendFakeEvaluator.Items).ToArray();
        var items = new[] { Enumerable.Range(0, BlendFakeEvaluator.Items).ToArray() };
        var archives = new List<string>();
        for (int step = 0; step < Steps; step++)
        {
            var child = optimizer.Ask();
            optimizer.Tell(child.Id, items, BlendFakeEvaluator.Rewards(child.Recipe, geometry.Order.Total), values);
            archives.Add(string.Join(",", optimizer.Slots.Select(s => s ?? -1)));
        }
        return archives;
    }

    static List<string> PlainGa()
    {
        var geometry = Geometry();
        long total = geometry.Order.Total;
        var random = new SeededRandom(4);
        var slots = new int?[Slots];
        var recipes = new List<BlendRecipe>();
        var score = new List<double>();
        var archives = new List<string>();
        for (int id = 0; id < Steps; id++)
        {
            BlendRecipe child;
            if (id < Models.Length) child = BlendRecipe.Source(Models, id);
            else
            {
                var fitness = slots.Select(s => s is int m ? score[m] : 0).ToArray();
                int first = Roulette(fitness, random.Uniform()), second = Roulette(fitness, random.Uniform());
                double w = random.Uniform();
                long split = Math.Min(total - 1, (long)(random.Uniform() * total));
                child = SplitSlerp.Child(recipes[slots[first]!.Value], recipes[slots[second]!.Value], w, split, geometry);
            }
            recipes.Add(child);
            score.Add(BlendFakeEvaluator.Rewards(child, total).Sum());
            // Replace the lowest raw score (the earliest slot on a tie, an empty slot counting 0) unless the child is lower still.
            int worst = 0;
            for (int s = 1; s < Slots; s++) if (Score(slots[s]) < Score(slots[worst])) worst = s;
            if (score[id] >= Score(slots[worst])) slots[worst] = id;
            archives.Add(string.Join(",", slots.Select(s => s ?? -1)));
        }
        return archives;

        double Score(int? member) => member is int m ? score[m] : 0;
    }

    static int Roulette(double[] weights, double u)
    {
        double target = u * weights.Sum(), sum = 0;
        for (int i = 0; i < weights.Length; i++)
            if (weights[i] > 0 && target < (sum += weights[i])) return i;
        return Array.FindLastIndex(weights, w => w > 0);
    }
}
