namespace EvoMerge.Evolution.M2n2;

/// <summary>
/// <c>ps/m2n2-report.json</c>: how the archive's coverage of the items grew, tell by tell; the family tree of the
/// best child back to the sources; and where the split points of its ancestry fell in the flattened parameter order.
/// </summary>
/// <param name="Steps">One per tell, in order.</param>
/// <param name="Family">The best child and every ancestor, each once, children before their parents.</param>
/// <param name="SplitPoints">The split point of every crossover in the best child's ancestry, by position.</param>
public sealed record M2n2Report(M2n2Config Settings, long Parameters, int Best, IReadOnlyList<M2n2Step> Steps,
    IReadOnlyList<M2n2Ancestor> Family, IReadOnlyList<M2n2Split> SplitPoints)
{
    public static M2n2Report Create(M2n2Optimizer optimizer, IReadOnlyList<M2n2Step> steps, IReadOnlyDictionary<int, double> fitness, int best)
    {
        var family = new List<M2n2Ancestor>();
        var seen = new HashSet<int>();
        var queue = new Queue<int>([best]);
        while (queue.Count > 0)
        {
            int id = queue.Dequeue();
            if (!seen.Add(id)) continue;
            var c = optimizer.Children[id];
            family.Add(new M2n2Ancestor(id, c.Parents, c.Weight, c.Split, fitness.GetValueOrDefault(id, double.NaN)));
            foreach (int p in c.Parents) queue.Enqueue(p);
        }
        var splits = family.Where(a => a.Split != null).OrderBy(a => a.Split)
            .Select(a => new M2n2Split(a.Id, a.Split!.Value, (double)a.Split!.Value / optimizer.Order.Total, optimizer.Order.Describe(a.Split.Value)))
            .ToList();
        return new M2n2Report(optimizer.Settings, optimizer.Order.Total, best, steps, family, splits);
    }
}

/// <param name="Tell">0-based count of tells before this one.</param>
/// <param name="Slot">The archive slot the child took, or −1 when it did not enter.</param>
/// <param name="Members">Archive members after the tell.</param>
/// <param name="Coverage">The archive's value-weighted best reward per item after the tell (<see cref="M2n2Optimizer.Coverage"/>).</param>
public sealed record M2n2Step(int Tell, int Child, double Fitness, int Slot, int Members, double Coverage);

/// <param name="Parents">Parent 1 and parent 2 (empty: a source).</param>
public sealed record M2n2Ancestor(int Id, int[] Parents, double? Weight, long? Split, double Fitness);

/// <param name="Fraction">Position ÷ parameters.</param>
/// <param name="Where">Layer, tensor and element.</param>
public sealed record M2n2Split(int Child, long Position, double Fraction, string Where);

/// <summary><c>ps/m2n2-archive.json</c>, rewritten after every tell.</summary>
public sealed record M2n2Archive(int Told, int Asked, double Coverage, IReadOnlyList<M2n2Member?> Slots);

/// <param name="SharedFitness">Its fitness after sharing with the rest of the archive.</param>
public sealed record M2n2Member(int Slot, int Id, double Fitness, double SharedFitness);
