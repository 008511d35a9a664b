namespace EvoMerge.Evolution.M2n2;

/// <summary>
/// M2N2's competition and attraction on a score matrix (row = archive slot, column = item; an empty slot is a row of
/// zeros). Each item is a resource of value vᵢ shared among the members that earn it: member m's share of item i is
/// vᵢ·rₘᵢ / (Σₖ rₖᵢ)^α, its fitness the sum of its shares. α = 1 is full sharing, α = 0 none (fitness = the plain
/// weighted score, a plain GA). An item nobody earns divides by 1.
/// </summary>
public static class Niches
{
    /// <summary>Each member's share of each item: vᵢ·rₘᵢ / (Σₖ rₖᵢ)^α.</summary>
    public static double[][] Shares(IReadOnlyList<double[]> rewards, IReadOnlyList<double> values, double alpha)
    {
        int items = values.Count;
        var z = new double[items];
        foreach (var row in rewards) for (int i = 0; i < items; i++) z[i] += row[i];
        for (int i = 0; i < items; i++) z[i] = z[i] != 0 ? Math.Pow(z[i], alpha) : 1;
        return rewards.Select(row =>
        {
            var share = new double[items];
            for (int i = 0; i < items; i++) share[i] = values[i] * row[i] / z[i];
            return share;
        }).ToArray();
    }

    /// <summary>Shared fitness of every member: the sum of its shares.</summary>
    public static double[] Fitness(double[][] shares) => shares.Select(s => s.Sum()).ToArray();

    /// <summary>
    /// How much member j would bring to parent <paramref name="parent"/>: Σᵢ max(0, shareⱼᵢ − share_pᵢ), the items where
    /// j is stronger, weighted by how contested they are. Parent 2 is drawn in proportion to it.
    /// </summary>
    public static double[] Attraction(double[][] shares, int parent)
    {
        var p = shares[parent];
        return shares.Select(s =>
        {
            double sum = 0;
            for (int i = 0; i < p.Length; i++) sum += Math.Max(0, s[i] - p[i]);
            return sum;
        }).ToArray();
    }

    /// <summary>
    /// The slot a new member with <paramref name="child"/> rewards replaces, or −1 when it does not enter: fitness is
    /// recomputed over the archive plus the child (the child competes for the same resources) and the worst is
    /// replaced unless that is the child itself. On a tie the earliest slot loses before the child, as in the
    /// reference code's argmin; an empty slot (zero rewards) is therefore filled before any member is replaced.
    /// </summary>
    public static int Replaced(IReadOnlyList<double[]> rewards, double[] child, IReadOnlyList<double> values, double alpha)
    {
        var fitness = Fitness(Shares([.. rewards, child], values, alpha));
        int worst = 0;
        for (int m = 1; m < fitness.Length; m++) if (fitness[m] < fitness[worst]) worst = m;
        return worst < rewards.Count ? worst : -1;
    }

    /// <summary>Draws an index with probability proportional to <paramref name="weights"/> (non-negative); null when they sum to zero.</summary>
    internal static int? Draw(IReadOnlyList<double> weights, double uniform)
    {
        double total = weights.Sum();
        if (!(total > 0)) return null;
        double target = uniform * total, cumulative = 0;
        int last = -1;
        for (int i = 0; i < weights.Count; i++)
        {
            if (weights[i] <= 0) continue;
            cumulative += weights[i];
            last = i;
            if (target < cumulative) return i;
        }
        return last;   // rounding at the top end
    }
}
