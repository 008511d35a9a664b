using System.Collections.Concurrent;
using EvoMerge.Merge.Methods;

namespace EvoMerge.Merge.Execution;

/// <summary>
/// Runs a <see cref="MergePlan"/>: worker threads take jobs largest first, read each input tensor as float32 (or use
/// it in place when resident), resolve the tensor's parameters, call the method's kernel and hand the result to the
/// <see cref="IMergeTarget"/>. Memory is a few tensors per worker, never the model. Contexts (and their buffers)
/// come from a pool that a <see cref="MergeSession"/> keeps across runs, so repeated merges allocate nothing.
/// </summary>
public static class MergeExecutor
{
    public static void Run(MergePlan plan, IMergeParameters parameters, IMergeTarget target, MergeOptions options,
        ConcurrentBag<TensorMergeContext>? contexts = null, int[]? order = null)
    {
        contexts ??= [];
        order ??= LargestFirst(plan);
        int next = -1, done = 0;
        long elementsDone = 0, elementsTotal = plan.TotalElements;
        int threads = Math.Min(options.EffectiveThreads, Math.Max(1, plan.Jobs.Count));
        try
        {
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = options.Cancellation }, _ =>
            {
                if (!contexts.TryTake(out var context)) context = new TensorMergeContext();
                try
                {
                    for (int i; (i = Interlocked.Increment(ref next)) < order.Length;)
                    {
                        options.Cancellation.ThrowIfCancellationRequested();
                        var job = plan.Jobs[order[i]];
                        RunJob(plan, job, parameters, target, options, context);
                        long elements = Interlocked.Add(ref elementsDone, job.ElementCount);
                        int count = Interlocked.Increment(ref done);
                        options.Progress?.Report(new MergeProgress(count, order.Length, elements, elementsTotal, job.OutputName));
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

    static void RunJob(MergePlan plan, MergeJob job, IMergeParameters parameters, IMergeTarget target, MergeOptions options, TensorMergeContext context)
    {
        var method = plan.Method;
        long count = job.ElementCount;
        if (count > Array.MaxLength)
            throw new EvoMergeException($"tensor {job.OutputName} has {count} elements, more than one buffer can hold");
        int length = (int)count;
        context.Begin(job.OutputName, job.Shape, length, job.Base != null, job.Models.Length, options.Compat,
            TensorRandom.KeyFor(options.Seed, job.OutputName));
        if (job.Base is { } b) Load(plan.Sources[b.Source], b, job.Shape, length, context.UseBaseArray, context.FillBase);
        for (int m = 0; m < job.Models.Length; m++)
        {
            var input = job.Models[m];
            int slot = m;
            Load(plan.Sources[input.Source], input, job.Shape, length, a => context.UseModelArray(slot, a), n => context.FillModel(slot, n));
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
        target.Accept(job.OutputName, job.Shape, output);
    }

    static void Load(IWeightSource source, TensorInput input, long[] shape, int length, Action<float[]> useResident, Func<int, float[]> fill)
    {
        if (input.SourceRows >= 0 && input.SourceRows != shape[0])
        {
            ReadWithRows(source, input, shape, fill(length).AsSpan(0, length));
            return;
        }
        if (source.ResidentFloat32(input.TensorName) is { } resident) { useResident(resident); return; }
        source.ReadFloat32(input.TensorName, fill(length).AsSpan(0, length));
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
