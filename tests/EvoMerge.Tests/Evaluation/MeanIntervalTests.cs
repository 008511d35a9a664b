using EvoMerge.Evaluation;

namespace EvoMerge.Tests.Evaluation;

public class MeanIntervalTests
{
    [Fact]
    public void Three_replicates_get_the_student_t_interval_of_the_tables()
    {
        // 1, 2, 3: mean 2, s = 1, s/√3 = 0.577350; t(0.975, 2) = 4.302653 (statistical tables) → ± 2.484138.
        var m = MeanInterval.Of([1, 2, 3]);
        Assert.Equal(2, m.Mean, 12);
        Assert.Equal(2 - 2.484138, m.Lower!.Value, 5);
        Assert.Equal(2 + 2.484138, m.Upper!.Value, 5);
        Assert.Equal(3, m.Count);
    }

    [Fact]
    public void Ten_replicates_use_t_with_nine_degrees_of_freedom()
    {
        // 0..9: mean 4.5, s = 3.027650, s/√10 = 0.957427; t(0.975, 9) = 2.262157 → ± 2.165850.
        var m = MeanInterval.Of([.. Enumerable.Range(0, 10).Select(i => (double)i)]);
        Assert.Equal(4.5 - 2.165850, m.Lower!.Value, 5);
    }

    [Fact]
    public void One_replicate_has_a_mean_but_no_interval()
    {
        var m = MeanInterval.Of([0.4]);
        Assert.Equal((0.4, null, null), (m.Mean, m.Lower, m.Upper));
        Assert.Throws<ArgumentException>(() => MeanInterval.Of([]));
    }
}
