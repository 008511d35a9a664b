using EvoMerge.Cluster.Contracts;

namespace EvoMerge.Cluster.Worker;

/// <summary>
/// A slot as a grain: hands the order to the silo's <see cref="WorkerSlots"/> on a thread of its own (evaluation
/// is long and CPU-bound, and must not hold Orleans' scheduler).
/// </summary>
public sealed class EvaluatorGrain(WorkerSlots slots) : Grain, IEvaluatorGrain
{
    int Slot => int.Parse(this.GetPrimaryKeyString().AsSpan(this.GetPrimaryKeyString().LastIndexOf('/') + 1), System.Globalization.CultureInfo.InvariantCulture);

    public Task<WorkerInfo> Describe() => Task.FromResult(slots.Info);

    public Task<string> Track(string workKey) => Task.FromResult(slots.Track(Slot, workKey));

    public Task<WorkReply> Evaluate(WorkOrder order)
    {
        int slot = Slot;
        return Task.Factory.StartNew(() => slots.Evaluate(slot, order, CancellationToken.None),
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }
}
