namespace EvoMerge.Evolution.Optimizers;

/// <summary>
/// NSGA-II's variation operators on the unit box, in the bounded forms of Deb's reference implementation:
/// simulated binary crossover (SBX, Deb &amp; Agrawal 1995) and polynomial mutation (Deb &amp; Goyal 1996). Both
/// spread children by a distribution index η: larger η keeps children closer to their parents.
/// </summary>
internal static class RealVariation
{
    /// <summary>SBX on each coordinate with probability ½; children stay in [0,1].</summary>
    public static (double[] First, double[] Second) Crossover(double[] a, double[] b, double eta, SeededRandom random)
    {
        var first = (double[])a.Clone();
        var second = (double[])b.Clone();
        for (int i = 0; i < a.Length; i++)
        {
            if (random.Uniform() > 0.5 || Math.Abs(a[i] - b[i]) <= 1e-14) continue;
            double low = Math.Min(a[i], b[i]), high = Math.Max(a[i], b[i]), gap = high - low;
            double u = random.Uniform();
            // The spread factor's distribution is truncated so that each child lands inside its side of the box.
            double lowerChild = 0.5 * (low + high - SpreadFactor(1 + 2 * low / gap, eta, u) * gap);
            double upperChild = 0.5 * (low + high + SpreadFactor(1 + 2 * (1 - high) / gap, eta, u) * gap);
            lowerChild = Math.Clamp(lowerChild, 0, 1);
            upperChild = Math.Clamp(upperChild, 0, 1);
            bool swap = random.Uniform() <= 0.5;
            first[i] = swap ? upperChild : lowerChild;
            second[i] = swap ? lowerChild : upperChild;
        }
        return (first, second);
    }

    static double SpreadFactor(double beta, double eta, double u)
    {
        double alpha = 2 - Math.Pow(beta, -(eta + 1));
        return u <= 1 / alpha
            ? Math.Pow(u * alpha, 1 / (eta + 1))
            : Math.Pow(1 / (2 - u * alpha), 1 / (eta + 1));
    }

    /// <summary>Polynomial mutation of each coordinate with probability <paramref name="probability"/>, in place.</summary>
    public static void Mutate(double[] x, double probability, double eta, SeededRandom random)
    {
        double power = 1 / (eta + 1);
        for (int i = 0; i < x.Length; i++)
        {
            if (random.Uniform() > probability) continue;
            double u = random.Uniform();
            // Truncated so that a step down never passes 0 and a step up never passes 1 (no shift at all from a bound
            // towards it).
            double shift = u <= 0.5
                ? Math.Pow(2 * u + (1 - 2 * u) * Math.Pow(1 - x[i], eta + 1), power) - 1
                : 1 - Math.Pow(2 * (1 - u) + 2 * (u - 0.5) * Math.Pow(x[i], eta + 1), power);
            x[i] = Math.Clamp(x[i] + shift, 0, 1);
        }
    }
}
