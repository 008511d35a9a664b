namespace EvoMerge.Evolution.Optimizers;

/// <summary>Pareto dominance, fast non-dominated sorting and crowding distance (Deb et al. 2002, NSGA-II, sections III-A and III-B). Lower is better in every objective.</summary>
internal static class ParetoRanking
{
    /// <summary>a dominates b: no worse in every objective and better in at least one.</summary>
    public static bool Dominates(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        bool better = false;
        for (int m = 0; m < a.Length; m++)
        {
            if (a[m] > b[m]) return false;
            if (a[m] < b[m]) better = true;
        }
        return better;
    }

    /// <summary>The fronts F1, F2, ... as index lists: F1 is non-dominated, F2 is non-dominated once F1 is removed, and so on.</summary>
    public static List<List<int>> NonDominatedFronts(IReadOnlyList<double[]> objectives)
    {
        int count = objectives.Count;
        var dominated = new List<int>[count];   // S_p: the points p dominates
        var dominatorCount = new int[count];    // n_p: how many points dominate p
        var fronts = new List<List<int>> { new() };
        for (int p = 0; p < count; p++)
        {
            dominated[p] = [];
            for (int q = 0; q < count; q++)
            {
                if (Dominates(objectives[p], objectives[q])) dominated[p].Add(q);
                else if (Dominates(objectives[q], objectives[p])) dominatorCount[p]++;
            }
            if (dominatorCount[p] == 0) fronts[0].Add(p);
        }
        while (true)
        {
            var next = new List<int>();
            foreach (int p in fronts[^1])
                foreach (int q in dominated[p])
                    if (--dominatorCount[q] == 0) next.Add(q);
            if (next.Count == 0) return fronts;
            next.Sort();   // discovery order depends on the previous front; sorting keeps it canonical
            fronts.Add(next);
        }
    }

    /// <summary>
    /// Crowding distance of each member of one front: the sum over objectives of the normalised gap between its two
    /// neighbours; the extremes of every objective get +∞ so that the front's ends are always kept.
    /// </summary>
    public static double[] CrowdingDistances(IReadOnlyList<double[]> objectives, IReadOnlyList<int> front)
    {
        var distance = new double[front.Count];
        if (front.Count == 0) return distance;
        var order = new int[front.Count];
        for (int m = 0; m < objectives[front[0]].Length; m++)
        {
            for (int i = 0; i < order.Length; i++) order[i] = i;
            Array.Sort(order, (a, b) =>
            {
                int c = objectives[front[a]][m].CompareTo(objectives[front[b]][m]);
                return c != 0 ? c : a.CompareTo(b);
            });
            double low = objectives[front[order[0]]][m], high = objectives[front[order[^1]]][m];
            distance[order[0]] = distance[order[^1]] = double.PositiveInfinity;
            if (!(high - low > 0) || double.IsInfinity(high - low)) continue;
            for (int i = 1; i < order.Length - 1; i++)
                distance[order[i]] += (objectives[front[order[i + 1]]][m] - objectives[front[order[i - 1]]][m]) / (high - low);
        }
        return distance;
    }
}
