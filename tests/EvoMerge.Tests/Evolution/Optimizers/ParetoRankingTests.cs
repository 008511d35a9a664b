using EvoMerge.Evolution.Optimizers;

namespace EvoMerge.Tests.Evolution.Optimizers;

public class ParetoRankingTests
{
    //                     A       B       C       D       E       F
    static readonly double[][] Points = [[1, 5], [2, 3], [4, 1], [3, 4], [5, 5], [4, 2]];

    /// <summary>By hand: A, B, C are mutually non-dominated; B dominates D, C dominates F; everything dominates E.</summary>
    [Fact]
    public void Sorts_a_hand_checked_example_into_fronts()
    {
        var fronts = ParetoRanking.NonDominatedFronts(Points);
        Assert.Equal([[0, 1, 2], [3, 5], [4]], fronts.Select(f => f.ToArray()).ToArray());
    }

    /// <summary>By hand, front {A, B, C}: ends get ∞; B's neighbours span 3 of 3 in f1 and 4 of 4 in f2, so 1 + 1.</summary>
    [Fact]
    public void Crowding_distance_matches_hand_computation()
    {
        var distances = ParetoRanking.CrowdingDistances(Points, [0, 1, 2]);
        Assert.Equal(double.PositiveInfinity, distances[0]);
        Assert.Equal(2.0, distances[1], 12);
        Assert.Equal(double.PositiveInfinity, distances[2]);
    }

    [Fact]
    public void Equal_points_do_not_dominate_each_other()
    {
        Assert.False(ParetoRanking.Dominates([1.0, 2.0], [1.0, 2.0]));
        Assert.True(ParetoRanking.Dominates([1.0, 2.0], [1.0, 2.5]));
        Assert.False(ParetoRanking.Dominates([1.0, 3.0], [2.0, 2.5]));
    }
}
