using EvoMerge.Merge.Methods;

namespace EvoMerge.Merge.Execution;

/// <summary>How to run a merge: the seed of DARE/DELLA masks, whose arithmetic to follow, how many threads.</summary>
public sealed record MergeOptions
{
    public ulong Seed { get; init; }

    public MergeCompat Compat { get; init; } = MergeCompat.Paper;

    /// <summary>Worker threads; 0 means one per core.</summary>
    public int Threads { get; init; }

    public IProgress<MergeProgress>? Progress { get; init; }

    /// <summary>
    /// Entry-wise methods stream tensors larger than this in row blocks of about this many elements: 64 Ki floats
    /// keep a kernel's buffers in the L2 cache, which makes its several passes nearly free.
    /// </summary>
    public int BlockElements { get; init; } = 1 << 16;

    public CancellationToken Cancellation { get; init; }

    internal int EffectiveThreads => Threads > 0 ? Threads : Environment.ProcessorCount;
}

/// <summary>Reported after each tensor: counts so far and the totals.</summary>
public readonly record struct MergeProgress(int TensorsDone, int TensorsTotal, long ElementsDone, long ElementsTotal, string LastTensor);
