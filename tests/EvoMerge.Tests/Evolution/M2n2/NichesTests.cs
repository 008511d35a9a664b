using EvoMerge.Evolution.M2n2;

namespace EvoMerge.Tests.Evolution.M2n2;

/// <summary>Fitness sharing, attraction and replacement on small score matrices, against values worked by hand.</summary>
public class NichesTests
{
    // Items 0..3. Members 0 and 1 are generalists that overlap on item 0; member 2 alone solves item 3.
    static readonly double[][] Rewards = [[1, 1, 0, 0], [1, 0, 1, 0], [0, 0, 0, 1]];
    static readonly double[] Ones = [1, 1, 1, 1];

    [Fact]
    public void Full_sharing_divides_each_item_among_its_solvers()
    {
        // z = (2, 1, 1, 1): item 0 is worth 1/2 to each of its two solvers.
        var shares = Niches.Shares(Rewards, Ones, alpha: 1);
        Assert.Equal([0.5, 1, 0, 0], shares[0]);
        Assert.Equal([1.5, 1.5, 1.0], Niches.Fitness(shares));
    }

    [Fact]
    public void Partial_sharing_divides_by_the_solver_count_to_the_power_alpha_and_scales_by_item_value()
    {
        var fitness = Niches.Fitness(Niches.Shares(Rewards, [0.25, 0.25, 0.25, 0.25], alpha: 0.5));
        // Member 0: 0.25·(1/√2 + 1) = 0.4267767; member 2: 0.25·1.
        Assert.Equal(0.42677669529663687, fitness[0], 12);
        Assert.Equal(0.42677669529663687, fitness[1], 12);
        Assert.Equal(0.25, fitness[2], 12);
    }

    [Fact]
    public void Fractional_rewards_share_in_proportion()
    {
        // Item 0 earned 0.5 and 0.25 by two members: z = 0.75; their shares 2/3 and 1/3.
        var shares = Niches.Shares([[0.5], [0.25]], [1], alpha: 1);
        Assert.Equal(2.0 / 3, shares[0][0], 12);
        Assert.Equal(1.0 / 3, shares[1][0], 12);
    }

    [Fact]
    public void Attraction_counts_what_a_member_adds_where_parent_1_is_weak()
    {
        var shares = Niches.Shares(Rewards, Ones, alpha: 1);
        // To member 0: member 1 brings item 2 (1), member 2 item 3 (1); member 0 itself nothing.
        Assert.Equal([0.0, 1.0, 1.0], Niches.Attraction(shares, 0));
        // To the specialist: member 0 brings 0.5 + 1, member 1 0.5 + 1.
        Assert.Equal([1.5, 1.5, 0.0], Niches.Attraction(shares, 2));
    }

    [Fact]
    public void With_sharing_a_child_replaces_a_redundant_generalist_and_the_specialist_survives()
    {
        // Child solves items 0, 1, 2: z = (3, 2, 2, 1); fitness m0 = 1/3 + 1/2, m1 = 1/3 + 1/2, m2 = 1, child = 4/3.
        Assert.Equal(0, Niches.Replaced(Rewards, [1, 1, 1, 0], Ones, alpha: 1));   // tie of m0 and m1: the earlier slot
    }

    [Fact]
    public void Alpha_zero_is_a_plain_GA_fitness_is_the_raw_score_and_the_lowest_is_replaced()
    {
        Assert.Equal([2.0, 2.0, 1.0], Niches.Fitness(Niches.Shares(Rewards, Ones, alpha: 0)));
        Assert.Equal(2, Niches.Replaced(Rewards, [1, 1, 1, 0], Ones, alpha: 0));   // the specialist (raw 1) goes
    }

    [Fact]
    public void A_child_that_is_the_worst_does_not_enter_and_an_empty_slot_is_filled_first()
    {
        Assert.Equal(-1, Niches.Replaced(Rewards, [0, 0, 0, 0], Ones, alpha: 1));
        double[][] withEmpty = [[1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]];
        Assert.Equal(1, Niches.Replaced(withEmpty, [0, 0, 1, 0], Ones, alpha: 1));
        // An empty slot ties with a child that solves nothing; like the reference's argmin, the slot goes first.
        Assert.Equal(1, Niches.Replaced(withEmpty, [0, 0, 0, 0], Ones, alpha: 1));
    }

    [Fact]
    public void Draws_follow_the_weights()
    {
        double[] weights = [0, 1, 3];
        Assert.Equal(1, Niches.Draw(weights, 0.0));
        Assert.Equal(1, Niches.Draw(weights, 0.2499));
        Assert.Equal(2, Niches.Draw(weights, 0.25));
        Assert.Equal(2, Niches.Draw(weights, 0.9999999));
        Assert.Null(Niches.Draw([0, 0], 0.5));
    }
}
