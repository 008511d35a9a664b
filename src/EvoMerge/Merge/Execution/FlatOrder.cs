using EvoMerge.Anatomy;

namespace EvoMerge.Merge.Execution;

/// <summary>
/// The order in which a model's parameters are laid out as one vector, the coordinate of M2N2's split points:
/// tensors by anatomy (embeddings, then layer 0, 1, ... with attention before MLP, then final norm, head, others;
/// modules in <see cref="ModelModule"/> order), by name within a place, each tensor's elements row-major. It does not
/// depend on the order of a safetensors file, so a split point at "40 %" is a place in the network's depth.
/// </summary>
public sealed class FlatOrder
{
    /// <param name="Job">Index into the plan's jobs.</param>
    /// <param name="Offset">Flattened position of the tensor's first element.</param>
    public readonly record struct Entry(int Job, string Name, long[] Shape, TensorPlace Place, long Offset, long Count);

    public IReadOnlyList<Entry> Tensors { get; }

    /// <summary>Parameters in all.</summary>
    public long Total { get; }

    public FlatOrder(MergePlan plan)
    {
        var sorted = Enumerable.Range(0, plan.Jobs.Count)
            .OrderBy(j => plan.Jobs[j].Position.Place.Module)
            .ThenBy(j => RoleRank(plan.Jobs[j].Position.Role))
            .ThenBy(j => plan.Jobs[j].Position.Layer)
            .ThenBy(j => plan.Jobs[j].Position.Place.Part)
            .ThenBy(j => plan.Jobs[j].OutputName, StringComparer.Ordinal);
        var tensors = new List<Entry>();
        long offset = 0;
        foreach (int j in sorted)
        {
            var job = plan.Jobs[j];
            tensors.Add(new Entry(j, job.OutputName, job.Shape, job.Position.Place, offset, job.ElementCount));
            offset += job.ElementCount;
        }
        Tensors = tensors;
        Total = offset;
    }

    /// <summary>Index into <see cref="Tensors"/> of the tensor holding flattened position <paramref name="position"/>.</summary>
    public int TensorAt(long position)
    {
        int lo = 0, hi = Tensors.Count - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (Tensors[mid].Offset <= position) lo = mid;
            else hi = mid - 1;
        }
        return lo;
    }

    /// <summary>Where a flattened position is, in words: "layer 3 (mlp) model.layers.3.mlp.up_proj.weight at 41.2 %".</summary>
    public string Describe(long position)
    {
        var t = Tensors[TensorAt(position)];
        string where = t.Place.Layer >= 0 ? $"layer {t.Place.Layer}" : t.Place.Role.ToString().ToLowerInvariant();
        return $"{where}: {t.Name} element {position - t.Offset} ({100.0 * position / Math.Max(1, Total):F1} % of the parameters)";
    }

    static int RoleRank(TensorRole role) => role switch
    {
        TensorRole.Embedding => 0,
        TensorRole.Layer => 1,
        TensorRole.FinalNorm => 2,
        TensorRole.Head => 3,
        _ => 4,
    };
}
