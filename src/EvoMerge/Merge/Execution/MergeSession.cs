using EvoMerge.Anatomy;
using System.Collections.Concurrent;
using EvoMerge.IO;
using EvoMerge.Merge.Methods;

namespace EvoMerge.Merge.Execution;

/// <summary>
/// The merge engine as the evolution loop uses it: built once from open models, then <see cref="Merge"/> runs per
/// candidate straight into a resident model's weights (an <see cref="IMergeTarget"/>), with no disk I/O. What can be
/// reused is prepared once: the plan, the job order, float32 copies of every input (optional, on by default), and
/// the per-thread buffers, so a candidate costs only the arithmetic.
/// <code>
/// using var session = MergeSession.Create(MergeMethods.Get("dare_ties"), baseModel, [modelA, modelB]);
/// var recipe = new GroupedRecipe("dare_ties", "base", ["a", "b"], ["weight", "density"], groups, values);
/// session.Merge(recipe.WithGlobals(globals), seed: 42, resident);
/// </code>
/// </summary>
public sealed class MergeSession
{
    readonly ConcurrentBag<TensorMergeContext> _contexts = [];
    readonly int[] _order;

    public MergePlan Plan { get; }

    /// <summary>Decoder layers of the reference model.</summary>
    public int LayerCount { get; }

    public MergeSession(MergePlan plan)
    {
        Plan = plan;
        _order = MergeExecutor.LargestFirst(plan);
        LayerCount = plan.Jobs.Where(j => !j.IsCopy).Select(j => j.Position.Layer).DefaultIfEmpty(-1).Max() + 1;   // copies: a VLM's vision layers
    }

    /// <summary>
    /// A session over models that share tensor names and shapes. With <paramref name="cacheFloat32"/>, every input is
    /// converted to float32 once and kept in memory (4 bytes per parameter per model), which makes each candidate
    /// merge a pure in-memory computation; without it, inputs are converted from their files on every merge.
    /// <paramref name="layout"/>: a VLM among the sources whose language model is merged (see <see cref="MergePlan.ForModels"/>).
    /// </summary>
    public static MergeSession Create(MergeMethod method, IWeightSource? baseModel, IReadOnlyList<IWeightSource> models,
        ModelAnatomy? anatomy = null, bool cacheFloat32 = true, IWeightSource? layout = null)
    {
        var plan = MergePlan.ForModels(method, baseModel, models, anatomy, layout);
        if (cacheFloat32)
            plan = new MergePlan(plan.Method, plan.Sources.Select(s => s is InMemoryWeights ? s : InMemoryWeights.CopyOf(s)).ToArray(), plan.Jobs);
        return new MergeSession(plan);
    }

    /// <summary>Merges every tensor of the plan into <paramref name="target"/>; DARE/DELLA masks follow <paramref name="seed"/>.</summary>
    public void Merge(IMergeParameters parameters, ulong seed, IMergeTarget target, int threads = 0,
        MergeCompat compat = MergeCompat.Paper, CancellationToken cancellation = default) =>
        MergeExecutor.Run(Plan, parameters, target, new MergeOptions { Seed = seed, Threads = threads, Compat = compat, Cancellation = cancellation },
            _contexts, _order);
}
