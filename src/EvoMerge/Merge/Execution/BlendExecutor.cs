using System.Numerics.Tensors;
using EvoMerge.Anatomy;
using EvoMerge.Merge.Methods;
using EvoMerge.Merge.Recipes;

namespace EvoMerge.Merge.Execution;

/// <summary>
/// Materialises a <see cref="BlendRecipe"/>: tensor by tensor, each segment's span of output is Σₛ cₛ·θₛ over the
/// same span of the sources. The plan supplies the sources (a session's float32 copies, or memory-mapped files) and
/// the tensors (one job per tensor, sources in recipe order, no base); threads take tensors largest first and hold
/// one output buffer each. The arithmetic is float32 multiply-adds, as <c>linear</c>'s.
/// </summary>
public static class BlendExecutor
{
    /// <summary>The plan a blend runs on: one job per tensor of the first source, every source contributing its tensor of the same name.</summary>
    public static MergePlan Plan(IReadOnlyList<IWeightSource> sources, ModelAnatomy? anatomy = null) =>
        MergePlan.ForModels(MergeMethods.Get("linear"), null, sources, anatomy);

    public static void Run(MergePlan plan, BlendRecipe recipe, IMergeTarget target, int threads = 0, CancellationToken cancellation = default)
    {
        recipe.Validate("blend");
        if (plan.Jobs.Any(j => j.Copied != null))
            throw new EvoMergeException("a blend (M2N2) of a VLM with text LLMs is not supported; use ps with cma-es or nsga2");
        if (plan.Sources.Count != recipe.Models.Count || plan.Jobs.Any(j => j.Base != null))
            throw new ArgumentException($"a blend of {recipe.Models.Count} models needs a plan over exactly those sources and no base", nameof(plan));
        var order = new FlatOrder(plan);
        var largestFirst = Enumerable.Range(0, order.Tensors.Count).OrderByDescending(i => order.Tensors[i].Count).ToArray();
        int workers = threads > 0 ? threads : Environment.ProcessorCount;
        Parallel.ForEach(largestFirst, new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = cancellation },
            () => (Output: Array.Empty<float>(), Input: Array.Empty<float>()),
            (i, _, buffers) =>
            {
                var tensor = order.Tensors[i];
                if (tensor.Count > Array.MaxLength) throw new EvoMergeException($"tensor {tensor.Name} has {tensor.Count} elements, more than one buffer can hold");
                int n = (int)tensor.Count;
                if (buffers.Output.Length < n) buffers = (new float[n], new float[n]);
                var output = buffers.Output.AsSpan(0, n);
                Materialise(plan, recipe, tensor, output, buffers.Input);
                target.Accept(tensor.Name, tensor.Shape, output);
                return buffers;
            },
            _ => { });
    }

    /// <summary>Writes the blend's values of one tensor into <paramref name="output"/> (<paramref name="scratch"/>: at least the tensor's size, for non-resident sources).</summary>
    static void Materialise(MergePlan plan, BlendRecipe recipe, FlatOrder.Entry tensor, Span<float> output, float[] scratch)
    {
        output.Clear();
        var job = plan.Jobs[tensor.Job];
        long end = tensor.Offset + tensor.Count;
        for (int s = recipe.SegmentAt(tensor.Offset); s < recipe.Segments.Count && recipe.Segments[s].Start < end; s++)
        {
            long from = Math.Max(recipe.Segments[s].Start, tensor.Offset) - tensor.Offset;
            long to = (s + 1 < recipe.Segments.Count ? Math.Min(recipe.Segments[s + 1].Start, end) : end) - tensor.Offset;
            var span = output.Slice((int)from, (int)(to - from));
            var c = recipe.Segments[s].Coefficients;
            for (int m = 0; m < c.Length; m++)
            {
                if (c[m] == 0) continue;
                var input = job.Models[m];
                var source = plan.Sources[input.Source];
                ReadOnlySpan<float> values = source.ResidentFloat32(input.TensorName) is { } resident
                    ? resident.AsSpan((int)from, span.Length)
                    : Read(source, input.TensorName, from, scratch.AsSpan(0, span.Length));
                TensorPrimitives.MultiplyAdd(values, (float)c[m], span, span);
            }
        }
    }

    static ReadOnlySpan<float> Read(IWeightSource source, string name, long offset, Span<float> destination)
    {
        source.ReadFloat32(name, offset, destination);
        return destination;
    }
}
