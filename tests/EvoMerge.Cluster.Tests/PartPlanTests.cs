using EvoMerge.Cluster.Driver;

namespace EvoMerge.Cluster.Tests;

/// <summary>The cut of the last candidates, against end times worked out by hand (b = share of a candidate spent building).</summary>
public class PartPlanTests
{
    [Theory]
    // one candidate, five slots, nothing to build: five parts end at 1/5 of a candidate
    [InlineData(1, 5, 24, 0.0, 5)]
    // two candidates: 5 parts each end at 2 × 1/5 = 0.4 (2 each: 0.5; 3 each: 2 rounds × 1/3)
    [InlineData(2, 5, 24, 0.0, 5)]
    // building costs 0.3: 2 parts each end at 0.3 + 0.35 = 0.65, 5 each at 2 × 0.44 = 0.88, whole at 1
    [InlineData(2, 5, 24, 0.3, 2)]
    // four candidates on five slots, building 0.3: cutting never beats 1 (2 each: 2 rounds × 0.65)
    [InlineData(4, 5, 24, 0.3, 1)]
    // the items allow only 2 parts
    [InlineData(1, 5, 2, 0.0, 2)]
    // as many candidates as slots: nothing to gain
    [InlineData(3, 3, 24, 0.0, 1)]
    public void The_cut_that_ends_first(int candidates, int room, int cap, double build, int expected) =>
        Assert.Equal(expected, PartPlan.PartsPerCandidate(candidates, room, cap, build));

    [Fact]
    public void End_times() => Assert.Equal(0.65, PartPlan.Ends(2, 5, 2, 0.3), 12);
}
