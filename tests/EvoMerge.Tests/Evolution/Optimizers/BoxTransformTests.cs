using EvoMerge.Evolution.Optimizers;

namespace EvoMerge.Tests.Evolution.Optimizers;

public class BoxTransformTests
{
    /// <summary>Hand-computed: quadratic zone width a = 0.05, parabola (x + a)² / 4a at the lower bound, period 2·1.1.</summary>
    [Theory]
    [InlineData(0.5, 0.5)]
    [InlineData(0.05, 0.05)]         // edge of the identity zone
    [InlineData(0.0, 0.0125)]        // 0.05² / 0.2
    [InlineData(-0.05, 0.0)]         // vertex of the parabola: the bound itself
    [InlineData(-0.1, 0.0125)]       // reflected about −0.05 onto 0
    [InlineData(1.0, 0.9875)]        // 1 − 0.05² / 0.2
    [InlineData(1.05, 1.0)]
    [InlineData(2.5, 0.3)]           // 0.3 + one period (2.2)
    [InlineData(-1.9, 0.3)]          // 0.3 − one period
    public void Maps_hand_computed_points(double x, double expected) => Assert.Equal(expected, BoxTransform.ToBox(x), 12);

    [Fact]
    public void Is_continuous_with_a_continuous_slope_at_the_zone_edges()
    {
        foreach (double edge in new[] { -BoxTransform.Zone, BoxTransform.Zone, 1 - BoxTransform.Zone, 1 + BoxTransform.Zone })
        {
            const double h = 1e-6;
            double left = (BoxTransform.ToBox(edge) - BoxTransform.ToBox(edge - h)) / h;
            double right = (BoxTransform.ToBox(edge + h) - BoxTransform.ToBox(edge)) / h;
            Assert.Equal(left, right, 4);
        }
    }

    [Fact]
    public void FromBox_inverts_ToBox_on_the_fundamental_domain()
    {
        for (double u = 0; u <= 1; u += 0.01)
            Assert.Equal(u, BoxTransform.ToBox(BoxTransform.FromBox(u)), 12);
    }
}
