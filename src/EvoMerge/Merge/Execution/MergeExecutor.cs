using System.Collections.Concurrent;
using EvoMerge.Merge.Methods;

namespace EvoMerge.Merge.Execution;

/// <summary>
/// Runs a <see cref="MergePlan"/>: worker threads take work items largest first, read each input as float32 (or use
/// it in place when resident), resolve the tensor's parameters, call the method's kernel and hand the result to the
/// <see cref="IMergeTarget"/>. Memory stays at a few tensors per worker, never the model: entry-wise methods stream
/// large tensors in row blocks (when the target accepts blocks), and tensors too large to split run one at a time
/// on a dedicated context. Contexts come from a pool that a <see cref="MergeSession"/> keeps across runs.
/// </summary>
public static class MergeExecutor
{
    /// <summary>Unsplittable tensors above this size run one at a time, so that two of them never share memory.</summary>
    public const long LargeElements = 1 << 24;

    readonly record struct WorkItem(int Job, long Offset, int Length);

    public static void Run(MergePlan plan, IMergeParameters parameters, IMergeTarget target, MergeOptions options,
        ConcurrentBag<TensorMergeContext>? contexts = null, int[]? order = null)
    {
        contexts ??= [];
        order ??= LargestFirst(plan);
        var items = WorkItems(plan, order, target, options);
        var remaining = plan.Jobs.Select(j => 0).ToArray();
        foreach (var item in items) remaining[item.Job]++;
        int next = -1, done = 0;
        long elementsDone = 0, elementsTotal = plan.TotalElements;
        int threads = Math.Min(options.EffectiveThreads, Math.Max(1, items.Count));
        var large = new object();
        TensorMergeContext? largeContext = null;
        try
        {
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = options.Cancellation }, _ =>
            {
                if (!contexts.TryTake(out var context)) context = new TensorMergeContext();
                try
                {
                    for (int i; (i = Interlocked.Increment(ref next)) < items.Count;)
                    {
                        options.Cancellation.ThrowIfCancellationRequested();
                        var item = items[i];
                        var job = plan.Jobs[item.Job];
                        if (item.Length > LargeElements)
                            lock (large) RunItem(plan, job, item, parameters, target, options, largeContext ??= new TensorMergeContext());
                        else RunItem(plan, job, item, parameters, target, options, context);
                        long elements = Interlocked.Add(ref elementsDone, item.Length);
                        int count = Interlocked.Decrement(ref remaining[item.Job]) == 0 ? Interlocked.Increment(ref done) : Volatile.Read(ref done);
                        options.Progress?.Report(new MergeProgress(count, plan.Jobs.Count, elements, elementsTotal, job.OutputName));
                    }
                }
                finally
                {
                    contexts.Add(context);
                }
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.FirstOrDefault(x => x is EvoMergeException or OperationCanceledException) is { } first)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw();
        }
    }

    /// <summary>Job indices by decreasing size, so the big tensors start first and the threads finish together.</summary>
    public static int[] LargestFirst(MergePlan plan) =>
        Enumerable.Range(0, plan.Jobs.Count).OrderByDescending(i => plan.Jobs[i].ElementCount).ThenBy(i => i).ToArray();

    static List<WorkItem> WorkItems(MergePlan plan, int[] order, IMergeTarget target, MergeOptions options)
    {
        bool canSplit = target is IMergeBlockTarget && plan.Method.IsElementwise(options.Compat);
        int blockElements = options.BlockElements;
        var items = new List<WorkItem>();
        foreach (int j in order)
        {
            var job = plan.Jobs[j];
            long count = job.ElementCount;
            bool adaptsRows = (job.Base?.SourceRows ?? -1) >= 0 || job.Models.Any(m => m.SourceRows >= 0);
            if (!canSplit || count <= blockElements || adaptsRows || job.Shape.Length == 0)
            {
                if (count > Array.MaxLength) throw new EvoMergeException($"tensor {job.OutputName} has {count} elements, more than one buffer can hold");
                items.Add(new WorkItem(j, 0, (int)count));
                continue;
            }
            long rowElements = count / job.Shape[0];
            long rowsPerBlock = Math.Max(1, blockElements / rowElements);
            for (long row = 0; row < job.Shape[0]; row += rowsPerBlock)
            {
                long rows = Math.Min(rowsPerBlock, job.Shape[0] - row);
                items.Add(new WorkItem(j, row * rowElements, (int)(rows * rowElements)));
            }
        }
        return items;
    }

    static void RunItem(MergePlan plan, MergeJob job, WorkItem item, IMergeParameters parameters, IMergeTarget target, MergeOptions options, TensorMergeContext context)
    {
        var method = plan.Method;
        int length = item.Length;
        bool whole = item.Offset == 0 && length == job.ElementCount;
        long[] shape = whole ? job.Shape : [length / (job.ElementCount / job.Shape[0]), .. job.Shape.AsSpan(1)];
        context.Begin(job.OutputName, shape, length, job.Base != null, job.Models.Length, options.Compat,
            TensorRandom.KeyFor(options.Seed, job.OutputName), item.Offset);
        if (job.Base is { } b) Load(plan.Sources[b.Source], b, job.Shape, item, context.UseBaseArray, context.FillBase);
        for (int m = 0; m < job.Models.Length; m++)
        {
            int slot = m;
            Load(plan.Sources[job.Models[m].Source], job.Models[m], job.Shape, item, (a, offset) => context.UseModelArray(slot, a, offset), n => context.FillModel(slot, n));
        }

        var globals = context.GlobalsBuffer(method.GlobalParameters.Count);
        for (int p = 0; p < globals.Length; p++) globals[p] = parameters.Global(method.GlobalParameters[p], job);
        for (int m = 0; m < job.Models.Length; m++)
        {
            var values = context.ModelParametersBuffer(m, method.ModelParameters.Count);
            for (int p = 0; p < values.Length; p++) values[p] = parameters.PerModel(method.ModelParameters[p], job, m);
        }

        var output = context.Output(length);
        method.Merge(context, output);
        if (whole) target.Accept(job.OutputName, job.Shape, output);
        else ((IMergeBlockTarget)target).AcceptBlock(job.OutputName, job.Shape, item.Offset, output);
    }

    static void Load(IWeightSource source, TensorInput input, long[] shape, WorkItem item, Action<float[], int> useResident, Func<int, float[]> fill)
    {
        if (input.SourceRows >= 0 && input.SourceRows != shape[0])
            ReadWithRows(source, input, shape, fill(item.Length).AsSpan(0, item.Length));
        else if (source.ResidentFloat32(input.TensorName) is { } resident)
            useResident(resident, (int)item.Offset);
        else
            source.ReadFloat32(input.TensorName, item.Offset, fill(item.Length).AsSpan(0, item.Length));
    }

    /// <summary>An embedding/head with another vocabulary size: keep the shared rows, fill new ones with the mean row.</summary>
    static void ReadWithRows(IWeightSource source, TensorInput input, long[] shape, Span<float> destination)
    {
        int columns = (int)(destination.Length / shape[0]), sourceRows = (int)input.SourceRows;
        var values = new float[(long)sourceRows * columns];
        source.ReadFloat32(input.TensorName, values);
        int shared = Math.Min(sourceRows, (int)shape[0]);
        values.AsSpan(0, shared * columns).CopyTo(destination);
        if (shared == shape[0]) return;
        var mean = destination.Slice(shared * columns, columns);
        mean.Clear();
        for (int r = 0; r < sourceRows; r++) System.Numerics.Tensors.TensorPrimitives.Add(mean, values.AsSpan(r * columns, columns), mean);
        System.Numerics.Tensors.TensorPrimitives.Multiply(mean, 1f / sourceRows, mean);
        for (int r = shared + 1; r < shape[0]; r++) mean.CopyTo(destination.Slice(r * columns, columns));
    }
}
