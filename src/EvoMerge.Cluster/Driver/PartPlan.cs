namespace EvoMerge.Cluster.Driver;

/// <summary>
/// How many parts to cut each of <c>k</c> candidates into when they are the last work and <c>room</c> slots could
/// take them. A part still builds the whole candidate (one merge) but scores 1/m of its items, so with <c>b</c> the
/// share of a candidate's time spent building, m parts each last b + (1 − b)/m of a candidate, and k·m parts on
/// <c>room</c> slots end after ⌈k·m / room⌉ such rounds. The plan takes the m ≤ <c>cap</c> that ends first (the
/// fewest parts among equals): one candidate on 5 slots with b = 0 → 5 parts, ending at 0.2 instead of 1; two →
/// 5 each, ending at 0.4; with b = 0.3 two candidates on 5 slots → 2 each, ending at 0.65.
/// </summary>
public static class PartPlan
{
    /// <param name="candidates">Candidates to place (k ≥ 1).</param>
    /// <param name="room">Slots they may use (room ≥ 1).</param>
    /// <param name="cap">The most parts a candidate can be cut into (whole batches of items).</param>
    /// <param name="buildShare">Share of a candidate's time spent building it, in [0, 1].</param>
    public static int PartsPerCandidate(int candidates, int room, int cap, double buildShare)
    {
        if (candidates < 1 || room < 1) return 1;
        double b = Math.Clamp(buildShare, 0, 1);
        int best = 1;
        double bestEnd = Ends(candidates, room, 1, b);
        for (int m = 2; m <= cap; m++)
        {
            double end = Ends(candidates, room, m, b);
            if (end < bestEnd - 1e-12) (best, bestEnd) = (m, end);
        }
        return best;
    }

    /// <summary>When the last of k candidates cut into m parts each ends, in candidate times, on <c>room</c> slots.</summary>
    public static double Ends(int candidates, int room, int parts, double buildShare) =>
        Math.Ceiling((double)candidates * parts / room) * (buildShare + (1 - buildShare) / parts);
}
