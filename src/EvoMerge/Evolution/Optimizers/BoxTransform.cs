namespace EvoMerge.Evolution.Optimizers;

/// <summary>
/// Maps CMA-ES's unbounded search space onto the unit box (Hansen's linear–quadratic boundary transformation, as in
/// pycma's BoxConstraintsLinQuadTransformation): the identity on [a, 1−a], a parabola in the outer zones of width a
/// that meets the bound with zero slope, and periodic reflection beyond, so every real vector lands in [0,1]^n
/// and the map is continuously differentiable. An optimum on a face of the box becomes a smooth minimum at the
/// parabola's vertex instead of a kink (as <c>abs()</c> or mirroring would make).
/// </summary>
internal static class BoxTransform
{
    /// <summary>Width of the quadratic zone at each bound.</summary>
    public const double Zone = 0.05;
    const double Span = 1 + 2 * Zone;   // [−a, 1+a] is the fundamental domain that reflection repeats

    public static double ToBox(double x)
    {
        double t = (x + Zone) % (2 * Span);
        if (t < 0) t += 2 * Span;
        if (t > Span) t = 2 * Span - t;      // reflect into [0, Span]
        double v = t - Zone;                  // v ∈ [−a, 1+a]
        if (v < Zone) return Math.Clamp((v + Zone) * (v + Zone) / (4 * Zone), 0, 1);
        if (v > 1 - Zone) return Math.Clamp(1 - (v - 1 - Zone) * (v - 1 - Zone) / (4 * Zone), 0, 1);
        return v;
    }

    /// <summary>A pre-image in [−a, 1+a] of a point of [0,1] (for starting points given in box coordinates).</summary>
    public static double FromBox(double u)
    {
        if (u < Zone) return -Zone + Math.Sqrt(4 * Zone * u);
        if (u > 1 - Zone) return 1 + Zone - Math.Sqrt(4 * Zone * (1 - u));
        return u;
    }

    public static double[] ToBox(IReadOnlyList<double> x) => x.Select(ToBox).ToArray();
}
