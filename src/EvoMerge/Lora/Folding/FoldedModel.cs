using EvoMerge.IO;
using EvoMerge.Merge;
using EvoMerge.Merge.Execution;

namespace EvoMerge.Lora.Folding;

/// <summary>
/// A model reference opened for reading, a <c>model+lora</c> reference with its LoRA folded in (strength 1) as tensors are
/// read: how the evolution loop opens its sources (a search over <c>base+lightning</c>-style sources), so that the merge
/// session's float32 copies, the sources' geometry and written candidates all see the folded weights, while the files
/// stay untouched. A plain reference is the model as it is.
/// </summary>
public sealed class FoldedModel : IDisposable
{
    readonly LoraFile? _lora;

    /// <summary>The model half, opened.</summary>
    public ModelFolder Folder { get; }

    /// <summary>The weights with the LoRA folded in.</summary>
    public IWeightSource Weights { get; }

    /// <summary>The LoRA's changes by tensor; null for a plain reference.</summary>
    public LoraPatches? Patches { get; }

    /// <summary>LoRA modules that matched nothing while others did (first five named), for the caller to show.</summary>
    public IReadOnlyList<string> Warnings { get; }

    FoldedModel(ModelFolder folder, IWeightSource weights, LoraFile? lora, LoraPatches? patches, IReadOnlyList<string> warnings)
    {
        Folder = folder;
        Weights = weights;
        _lora = lora;
        Patches = patches;
        Warnings = warnings;
    }

    /// <param name="label">The sources' label in messages; the model's folder name by default.</param>
    public static FoldedModel Open(string reference, string? label = null)
    {
        var (model, loraReference) = LoraReference.Split(reference);
        var folder = ModelFolder.Open(model);
        IWeightSource weights = new SafetensorsWeights(folder.Weights, label ?? Path.GetFileName(folder.Path.TrimEnd('/')));
        if (loraReference == null) return new FoldedModel(folder, weights, null, null, []);
        LoraFile? lora = null;
        try
        {
            lora = LoraFile.Open(loraReference);
            var patches = new LoraPatches(folder.Weights.Tensors.Select(t => (t.Name, t.Shape)), $"model '{model}'", folder.Anatomy);
            var warnings = new List<string>();
            patches.Add(lora, 1, warnings);
            return new FoldedModel(folder, new LoraFoldedWeights(weights, patches), lora, patches, warnings);
        }
        catch
        {
            lora?.Dispose();
            folder.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes the tensors the LoRA changes, folded, into <paramref name="target"/> (a resident model loaded from the
    /// model half): the fold happens once, at load.
    /// </summary>
    public void FoldInto(IMergeTarget target)
    {
        if (Patches == null) return;
        foreach (string name in Patches.Tensors)
        {
            Weights.TryGetShape(name, out var shape);
            var values = new float[TensorInfo.ElementCountOf(shape)];
            Weights.ReadFloat32(name, values);
            target.Accept(name, shape, values);
        }
    }

    public void Dispose()
    {
        _lora?.Dispose();
        Folder.Dispose();
    }
}
