using EvoMerge.IO;
using EvoMerge.Lora.Folding;
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

    /// <summary>A diffusion recipe's components taken whole, not merged: component → model (<see cref="RecipeComponents"/>).</summary>
    public IReadOnlyDictionary<string, string> Components { get; init; } = new Dictionary<string, string>();

    /// <summary>With a token-wise union: the output's tokenizer.json (the primary model's, extended), else null.</summary>
    public string? UnionTokenizerJson { get; init; }

    public required int OutputLayers { get; init; }

    public required int? OutputVocab { get; init; }

    /// <summary>Output dtype of each job, by the job's index in <see cref="Plan"/>.</summary>
    public required IReadOnlyList<DType> OutputDTypes { get; init; }

    public required IReadOnlyList<string> Warnings { get; init; }

    public required IReadOnlyList<string> Notes { get; init; }

    /// <summary>Every LoRA the recipe opened (<c>model+lora</c> references and <c>loras:</c>), closed with the plan.</summary>
    public IReadOnlyList<LoraFile> Loras { get; init; } = [];

    /// <summary>The recipe's <c>loras:</c>, matched onto the output tensors, folded into the merged result as it is written.</summary>
    public LoraPatches? OutputLoras { get; init; }

    public long OutputBytes => Plan.Jobs.Select((j, i) => j.ElementCount * OutputDTypes[i].ElementSize()).Sum();

    public long InputBytes => Models.Values.Sum(m => m.Weights.TotalBytes);

    /// <summary>
    /// An upper bound on the executor's working memory: per thread, float32 buffers (base, models, kernel scratch,
    /// output) for its work item. Entry-wise methods work on row blocks; unsplittable tensors above
    /// <see cref="MergeExecutor.LargeElements"/> run one at a time. Memory-mapped input pages come on top but are
    /// released after each read.
    /// </summary>
    public long PeakMemoryBytes(int threads, int blockElements = 1 << 16)
    {
        bool split = Plan.Method.IsElementwise(Compat);
        var sizes = Plan.Jobs.Select(j =>
        {
            if (!split || j.ElementCount <= blockElements || j.Shape.Length == 0) return j.ElementCount;
            long row = j.ElementCount / j.Shape[0];
            return Math.Max(1, blockElements / row) * row;
        }).DefaultIfEmpty(0).ToList();
        int models = Plan.Jobs.Select(j => j.Models.Length).DefaultIfEmpty(0).Max();
        long perElement = (1 + models + Plan.Method.ScratchBuffers(models) + 1) * (long)sizeof(float); // base, models, scratch, output
        long largest = sizes.Max(), largestSmall = sizes.Where(s => s <= MergeExecutor.LargeElements).DefaultIfEmpty(0).Max();
        int workers = Math.Min(threads, Math.Max(1, sizes.Count));
        return largest > MergeExecutor.LargeElements
            ? (largest + (workers - 1) * largestSmall) * perElement
            : workers * largest * perElement;
    }

    public void Dispose()
    {
        foreach (var m in Models.Values) m.Dispose();
        foreach (var l in Loras) l.Dispose();
    }
}
