using EvoMerge.IO;
using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Methods;

namespace EvoMerge.Merge.Recipes;

/// <summary>
/// A recipe checked against the models' configs and safetensors headers and turned into a <see cref="MergePlan"/>,
/// with what <c>check</c> reports: warnings, notes on embeddings, output layer count, size and memory estimates.
/// Holds the opened (memory-mapped) models until disposed.
/// </summary>
public sealed class PlannedRecipe : IDisposable
{
    public required Recipe Recipe { get; init; }

    public required MergePlan Plan { get; init; }

    public required RecipeParameters Parameters { get; init; }

    public required MergeCompat Compat { get; init; }

    /// <summary>The opened models by reference, base first.</summary>
    public required IReadOnlyDictionary<string, ModelFolder> Models { get; init; }

    /// <summary>The model whose config.json the output adapts (the base, else the first source).</summary>
    public required ModelFolder Reference { get; init; }

    /// <summary>The model whose tokenizer files are copied.</summary>
    public required ModelFolder TokenizerModel { get; init; }

    public required int OutputLayers { get; init; }

    public required int? OutputVocab { get; init; }

    /// <summary>Output dtype of each job, by the job's index in <see cref="Plan"/>.</summary>
    public required IReadOnlyList<DType> OutputDTypes { get; init; }

    public required IReadOnlyList<string> Warnings { get; init; }

    public required IReadOnlyList<string> Notes { get; init; }

    public long OutputBytes => Plan.Jobs.Select((j, i) => j.ElementCount * OutputDTypes[i].ElementSize()).Sum();

    public long InputBytes => Models.Values.Sum(m => m.Weights.TotalBytes);

    /// <summary>
    /// Working memory of the executor: per thread, the float32 inputs, the kernel's scratch and the output of the
    /// largest tensor. Memory-mapped input pages come on top but are file-backed and reclaimable.
    /// </summary>
    public long PeakMemoryBytes(int threads)
    {
        long largest = Plan.Jobs.Select(j => j.ElementCount).DefaultIfEmpty(0).Max();
        int models = Plan.Jobs.Select(j => j.Models.Length).DefaultIfEmpty(0).Max();
        int buffersPerThread = 1 + models + (models + 3) + 1; // base, models, scratch, output
        return (long)Math.Min(threads, Math.Max(1, Plan.Jobs.Count)) * buffersPerThread * largest * sizeof(float);
    }

    public void Dispose()
    {
        foreach (var m in Models.Values) m.Dispose();
    }
}
