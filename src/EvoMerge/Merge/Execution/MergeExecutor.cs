using System.Collections.Concurrent;
using EvoMerge.Merge.Methods;
using EvoMerge.Merge.Kernels;

namespace EvoMerge.Merge.Execution;

/// <summary>
/// Runs a <see cref="MergePlan"/>: worker threads take work items largest first, read each input as float32 (or use
/// it in place when resident), resolve the tensor's parameters, call the method's kernel and hand the result to the
/// <see cref="IMergeTarget"/>. Memory stays at a few tensors per worker, never the model: entry-wise methods stream
/// large tensors in row blocks (when the target accepts blocks): one work item per block, or, for a method that needs
/// sums over the whole tensor first (slerp), one item that streams the tensor's blocks twice. Tensors too large to
/// split run one at a time on a dedicated context. Contexts come from a pool that a <see cref="MergeSession"/> keeps across runs.
/// </summary>
public static class MergeExecutor
{
    /// <summary>Unsplittable tensors above this size run one at a time, so that two of them never share memory.</summary>
    public const long LargeElements = 1 << 24;

    /// <summary>Elements [Offset, Offset + Length) of a job; <paramref name="Streamed"/>: the whole tensor, in row blocks of <paramref name="RowsPerBlock"/>, two passes.</summary>
    readonly record struct WorkItem(int Job, long Offset, long Length, bool Streamed = false, long RowsPerBlock = 0);

    public static void Run(MergePlan plan, IMergeParameters parameters, IMergeTarget target, MergeOptions options,
        ConcurrentBag<TensorMergeContext>? contexts = null, int[]? order = null)
    {
        contexts ??= [];
        order ??= LargestFirst(plan);
        var items = WorkItems(plan, parameters, order, target, options);
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
                        if (item.Length > LargeElements && !item.Streamed)
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

    static List<WorkItem> WorkItems(MergePlan plan, IMergeParameters parameters, int[] order, IMergeTarget target, MergeOptions options)
    {
        bool canSplit = target is IMergeBlockTarget && plan.Method.IsElementwise(options.Compat);
        int blockElements = options.BlockElements;
        var items = new List<WorkItem>();
        foreach (int j in order)
        {
            var job = plan.Jobs[j];
            long count = job.ElementCount;
            bool adaptsRows = (job.Base?.SourceRows ?? -1) >= 0 || job.Models.Any(m => m.SourceRows >= 0)
                || job.Base?.RowMap != null || job.Models.Any(m => m.RowMap != null) || job.ForcedRows != null || job.Copied != null;
            if (!canSplit || count <= blockElements || adaptsRows || job.Shape.Length == 0)
            {
                if (count > Array.MaxLength) throw new EvoMergeException($"tensor {job.OutputName} has {count} elements, more than one buffer can hold");
                items.Add(new WorkItem(j, 0, count));
                continue;
            }
            long rowElements = count / job.Shape[0];
            long rowsPerBlock = Math.Max(1, blockElements / rowElements);
            if (plan.Method.StatisticsCount(Globals(plan.Method, parameters, job)) > 0)
            {
                items.Add(new WorkItem(j, 0, count, Streamed: true, rowsPerBlock));
                continue;
            }
            for (long row = 0; row < job.Shape[0]; row += rowsPerBlock)
            {
                long rows = Math.Min(rowsPerBlock, job.Shape[0] - row);
                items.Add(new WorkItem(j, row * rowElements, rows * rowElements));
            }
        }
        return items;
    }

    static double[] Globals(MergeMethod method, IMergeParameters parameters, MergeJob job) =>
        method.GlobalParameters.Select(def => parameters.Global(def, job)).ToArray();

    static void RunItem(MergePlan plan, MergeJob job, WorkItem item, IMergeParameters parameters, IMergeTarget target, MergeOptions options, TensorMergeContext context)
    {
        if (job.IsCopy)
        {
            var copy = context.Output((int)job.ElementCount);
            plan.Sources[job.Copied!.Input.Source].ReadFloat32(job.Copied.Input.TensorName, 0, copy);
            target.Accept(job.OutputName, job.Shape, copy);
            return;
        }
        var method = plan.Method;
        var globals = context.GlobalsBuffer(method.GlobalParameters.Count);
        for (int p = 0; p < globals.Length; p++) globals[p] = parameters.Global(method.GlobalParameters[p], job);
        for (int m = 0; m < job.Models.Length; m++)
        {
            var values = context.ModelParametersBuffer(m, method.ModelParameters.Count);
            for (int p = 0; p < values.Length; p++) values[p] = parameters.PerModel(method.ModelParameters[p], job, m);
        }
        var totals = context.StatisticsBuffer(method.StatisticsCount(globals));
        if (!item.Streamed)
        {
            // A job with copied rows merges only the rows before them, as a tensor of that many rows.
            int merged = (int)Math.Min(item.Length, job.MergedElements);
            Load(plan, job, item.Offset, merged, options, context);
            if (totals.Length > 0) method.Accumulate(context, totals);
            MergeAndHand(plan, job, item.Offset, merged, target, context);
            return;
        }
        // Pass 1 sums over every block, pass 2 merges each block with the totals; only a block is ever held.
        long blockElements = item.RowsPerBlock * (job.ElementCount / job.Shape[0]);
        for (long offset = 0; offset < job.ElementCount; offset += blockElements)
        {
            Load(plan, job, offset, (int)Math.Min(blockElements, job.ElementCount - offset), options, context);
            method.Accumulate(context, totals);
        }
        for (long offset = 0; offset < job.ElementCount; offset += blockElements)
        {
            int length = (int)Math.Min(blockElements, job.ElementCount - offset);
            Load(plan, job, offset, length, options, context);
            MergeAndHand(plan, job, offset, length, target, context);
        }
    }

    /// <summary>Points the context at elements [offset, offset + length) of the job and reads every input's values for them.</summary>
    static void Load(MergePlan plan, MergeJob job, long offset, int length, MergeOptions options, TensorMergeContext context)
    {
        bool whole = offset == 0 && length == job.ElementCount;
        long[] shape = whole ? job.Shape : [length / (job.ElementCount / job.Shape[0]), .. job.Shape.AsSpan(1)];
        context.Begin(job.OutputName, shape, length, job.Base != null, job.Models.Length, options.Compat,
            TensorRandom.KeyFor(options.Seed, job.OutputName), offset);
        if (job.Base is { } b) Load(plan.Sources, b, job.Shape, offset, length, context.UseBaseArray, context.FillBase);
        for (int m = 0; m < job.Models.Length; m++)
        {
            int slot = m;
            Load(plan.Sources, job.Models[m], job.Shape, offset, length, (a, o) => context.UseModelArray(slot, a, o), n => context.FillModel(slot, n));
        }
    }

    static void MergeAndHand(MergePlan plan, MergeJob job, long offset, int length, IMergeTarget target, TensorMergeContext context)
    {
        Span<float> output;
        if (job.Copied is { } copied)
        {
            // The whole tensor: the merged rows, then the copied ones read straight from their source.
            output = context.Output((int)job.ElementCount);
            plan.Method.Merge(context, output[..length]);
            plan.Sources[copied.Input.Source].ReadFloat32(copied.Input.TensorName, length, output[length..]);
            length = output.Length;
        }
        else
        {
            output = context.Output(length);
            plan.Method.Merge(context, output);
        }
        if (job.ForcedRows != null)
        {
            int columns = (int)(length / job.Shape[0]);
            foreach (var (row, rows) in job.ForcedRows) FillRow(plan.Sources, rows, output.Slice(row * columns, columns));
        }
        if (offset == 0 && length == job.ElementCount) target.Accept(job.OutputName, job.Shape, output);
        else ((IMergeBlockTarget)target).AcceptBlock(job.OutputName, job.Shape, offset, output);
    }

    static void Load(IReadOnlyList<IWeightSource> sources, TensorInput input, long[] shape, long offset, int length, Action<float[], int> useResident, Func<int, float[]> fill)
    {
        var source = sources[input.Source];
        if (input.RowMap != null)
        {
            var destination = fill(length).AsSpan(0, length);
            int columns = (int)(length / shape[0]);
            for (int r = 0; r < shape[0]; r++) FillRow(sources, input.RowMap[r], destination.Slice(r * columns, columns));
        }
        else if (input.SourceRows >= 0 && input.SourceRows != shape[0])
            ReadWithRows(source, input, shape, fill(length).AsSpan(0, length));
        else if (source.ResidentFloat32(input.TensorName) is { } resident)
            useResident(resident, (int)offset);
        else
            source.ReadFloat32(input.TensorName, offset, fill(length).AsSpan(0, length));
    }

    /// <summary>The mean of the listed rows (zeros for none). Reads one row at a time: vocabulary jobs are few.</summary>
    static void FillRow(IReadOnlyList<IWeightSource> sources, RowSource[] rows, Span<float> destination)
    {
        destination.Clear();
        if (rows.Length == 0) return;
        var row = new float[destination.Length];
        foreach (var r in rows)
        {
            sources[r.Source].ReadFloat32(r.TensorName, (long)r.Row * destination.Length, row);
            System.Numerics.Tensors.TensorPrimitives.Add(destination, row, destination);
        }
        if (rows.Length > 1) System.Numerics.Tensors.TensorPrimitives.Multiply(destination, 1f / rows.Length, destination);
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
