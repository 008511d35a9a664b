using System.Text.Json.Nodes;
using EvoMerge.Anatomy;
using EvoMerge.IO;
using EvoMerge.Merge.Execution;

namespace EvoMerge.Merge.Recipes;

/// <summary>
/// A recipe with a LLaVA among its models: the output is a LLaVA folder laid out as that VLM (its names, config,
/// processor and tokenizer). Its language model is merged with the other sources by decoder name (a plain LLM's
/// <c>model.layers.3…</c> meets the VLM's <c>language_model.model.layers.3…</c>); its vision tower and projector are
/// copied bit for bit; embedding and head rows that only it has (the image token, padding rows) are copied from it
/// and the rows every source has are merged. The VLM is the base when the base is a LLaVA, else the first LLaVA.
/// </summary>
sealed class VlmMerge
{
    public string Name { get; }

    public ModelFolder Model { get; }

    readonly IReadOnlyDictionary<string, ModelFolder> _models;
    readonly Dictionary<string, bool> _transformers5 = new();
    readonly long _textRows;   // rows before the image token: every source must have them

    VlmMerge(string name, IReadOnlyDictionary<string, ModelFolder> models)
    {
        Name = name;
        Model = models[name];
        _models = models;
        foreach (var (reference, folder) in models)
            if (folder.Anatomy.IsLlava) _transformers5[reference] = ModelAnatomy.UsesTransformers5Names(folder.Weights.Tensors.Select(t => t.Name));
        var json = Model.Config?.Json;
        // transformers 4.x writes image_token_index, 5.x image_token_id; LlavaConfig's default is 32000.
        _textRows = (json?["image_token_index"] ?? json?["image_token_id"]) is JsonValue v && v.TryGetValue(out long id) ? id : 32000;
    }

    /// <summary>The VLM merge of <paramref name="recipe"/>, or null when no model is a LLaVA.</summary>
    public static VlmMerge? Find(Recipe recipe, IReadOnlyDictionary<string, ModelFolder> models)
    {
        string? vlm = recipe.BaseModel is { } b && models[b].Anatomy.IsLlava ? b
            : recipe.ReferencedModels().Select(m => m.Model).FirstOrDefault(m => models[m].Anatomy.IsLlava);
        foreach (var module in recipe.CopiedModules)
            if (module.Models[0].Model != vlm)
                throw new EvoMergeException($"{module.Models[0].Mark}: modules.{module.Name}: '{module.Models[0].Model}' is not " +
                    (vlm == null ? "a LLaVA folder; only a VLM's vision tower and projector can be copied" : $"the VLM of the merge ('{vlm}'), whose {module.Name} the output keeps"));
        if (vlm == null) return null;
        if (recipe.TokenizerSource is { } source && source != "base" && source != vlm)
            throw new EvoMergeException($"{recipe.TokenizerMark}: tokenizer source '{source}': a merge with the VLM '{vlm}' keeps its tokenizer (with the image token); use 'base' or '{vlm}'");
        return new VlmMerge(vlm, models);
    }

    /// <summary>A model's name for a decoder tensor (a plain LLM's name), its own for a LLaVA of either layout.</summary>
    public string NameIn(string model, string decoderName) =>
        _transformers5.TryGetValue(model, out bool v5) ? ModelAnatomy.LlavaName(decoderName, v5) : decoderName;

    /// <summary>The output's name for a decoder tensor: the VLM's.</summary>
    public string OutputName(string decoderName) => NameIn(Name, decoderName);

    /// <summary>A model's tensor as a decoder name, or null for a VLM's vision tower or projector tensor.</summary>
    public string? DecoderName(string model, string name) => _models[model].Anatomy.DecoderName(name);

    /// <summary>The vision tower and projector, copied whole: (tensor, dtype kept), and notes on what is copied or left.</summary>
    public IEnumerable<TensorInfo> CopiedTensors(List<string> notes)
    {
        var copied = Model.Weights.Tensors.Where(t => Model.Anatomy.DecoderName(t.Name) == null).ToList();
        foreach (var t in copied.Where(t => !IsFloat(t.DType)))
            notes.Add($"{t.Name}: a {t.DType} buffer of the VLM, not copied (transformers rebuilds it)");
        var kept = copied.Where(t => IsFloat(t.DType)).ToList();
        foreach (var module in kept.GroupBy(t => Model.Anatomy.Place(t.Name).Module))
            notes.Add($"{(module.Key == ModelModule.VisionTower ? "vision tower" : "projector")}: {module.Count()} tensors copied bit for bit from the VLM '{Name}' (dtype kept)");
        return kept;
    }

    static bool IsFloat(DType d) => d is DType.F32 or DType.F16 or DType.BF16;

    /// <summary>
    /// The rows of an embedding or head: the VLM's count, of which the first <c>Shared</c> (the fewest any source
    /// has) are merged and the rest copied from the VLM. A source with fewer rows than the VLM's text tokens
    /// (those before its image token) has another tokenizer and is refused; rows beyond the VLM's are dropped.
    /// </summary>
    public (long Rows, long Shared) Rows(string outputName, IReadOnlyList<RecipeSource> sources, Func<RecipeSource, string> inputName, List<string> notes)
    {
        var vlmInfo = Model.Weights.TryGetInfo(outputName, out var info) ? info
            : throw new EvoMergeException($"{Model.Path}: the VLM '{Name}' has no tensor '{outputName}'");
        long rows = vlmInfo.Shape[0], shared = rows, textRows = Math.Min(_textRows, rows);
        foreach (var s in sources)
        {
            string tensor = inputName(s);
            var other = _models[s.Model].Weights.TryGetInfo(tensor, out var i) ? i
                : throw new EvoMergeException($"{s.Mark}: model '{s.Model}' has no tensor '{tensor}'");
            if (other.Shape.Length != vlmInfo.Shape.Length || !other.Shape.AsSpan(1).SequenceEqual(vlmInfo.Shape.AsSpan(1)))
                throw new EvoMergeException($"{s.Mark}: tensor '{tensor}' of model '{s.Model}' has shape {other.ShapeText}, expected [rows, {string.Join(", ", vlmInfo.Shape.Skip(1))}] (as '{outputName}' in the VLM '{Name}')");
            if (other.Shape[0] < textRows)
                throw new EvoMergeException($"{s.Mark}: model '{s.Model}' has {other.Shape[0]} rows in '{tensor}', but the VLM '{Name}' has {textRows} text tokens before its image token (image_token_index {_textRows}); a VLM merges only with LLMs of its tokenizer");
            if (other.Shape[0] > rows)
                notes.Add($"{tensor}: model '{s.Model}' has {other.Shape[0]} rows; rows {rows}.. are dropped (the output has the VLM's {rows})");
            shared = Math.Min(shared, other.Shape[0]);
        }
        notes.Add(shared < rows
            ? $"{outputName}: {rows} rows (the VLM's); rows 0..{shared - 1} merged, rows {shared}..{rows - 1} only the VLM '{Name}' has (image token, padding) copied from it"
            : $"{outputName}: {rows} rows, all merged (every source has them)");
        return (rows, shared);
    }
}
