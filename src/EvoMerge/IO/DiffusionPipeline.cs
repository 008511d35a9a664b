using System.Text.Json;
using System.Text.Json.Nodes;
using EvoMerge.Anatomy;

namespace EvoMerge.IO;

/// <summary>
/// A diffusers pipeline folder: <c>model_index.json</c> names each component (<c>"unet": ["diffusers",
/// "UNet2DConditionModel"]</c>) and each component is a sub-folder. The weight components (unet, text_encoder,
/// text_encoder_2, vae; <see cref="ModelAnatomy.PipelineComponents"/>) are read as one model whose tensor names
/// carry the folder's name (<c>unet.conv_in.weight</c>); the rest (tokenizers, scheduler, feature extractor, …) are
/// files that a merged pipeline copies through. Weights are found by diffusers' file names: the library's stem
/// (<c>diffusion_pytorch_model</c>, <c>model</c>) with <c>.safetensors</c> or a sharded index; a variant
/// (<c>.fp16.safetensors</c>) only when it is the one file there.
/// </summary>
public sealed class DiffusionPipeline
{
    public const string IndexFileName = "model_index.json";

    /// <summary>Bounded read of model_index.json: a real one is under 1 KiB.</summary>
    const long MaxIndexBytes = 1 << 20;

    static readonly string[] WeightStems = ["diffusion_pytorch_model", "model"];

    /// <summary>One weight component: its folder name, the module it holds, and the weight file (a .safetensors or a sharded index) read.</summary>
    public sealed record Component(string Name, ModelModule Module, string WeightsPath)
    {
        /// <summary>The file stem diffusers reads for this component: <c>diffusion_pytorch_model</c> or <c>model</c>.</summary>
        public string Stem => WeightStems.First(s => Path.GetFileName(WeightsPath).StartsWith(s + ".", StringComparison.Ordinal));
    }

    public string Folder { get; }

    /// <summary>model_index.json as read.</summary>
    public JsonObject Index { get; }

    /// <summary>model_index.json's <c>_class_name</c> (<c>StableDiffusionXLPipeline</c>), or null when absent or not text.</summary>
    public string? ClassName => Index["_class_name"] is JsonValue v && v.TryGetValue<string>(out var name) ? name : null;

    /// <summary>The weight components present, in <see cref="ModelAnatomy.PipelineComponents"/> order.</summary>
    public IReadOnlyList<Component> Components { get; }

    DiffusionPipeline(string folder, JsonObject index, IReadOnlyList<Component> components)
    {
        Folder = folder;
        Index = index;
        Components = components;
    }

    public static bool IsPipeline(string folder) => Directory.Exists(folder) && InputFile.Exists(Path.Combine(folder, IndexFileName));

    /// <summary>Reads model_index.json and finds each weight component's weights; no tensor data is read.</summary>
    public static DiffusionPipeline Open(string folder)
    {
        string indexPath = Path.Combine(folder, IndexFileName);
        JsonObject index;
        try
        {
            index = JsonNode.Parse(InputFile.ReadAllBytes(indexPath, MaxIndexBytes, "model_index.json")) as JsonObject
                ?? throw new EvoMergeException($"{indexPath}: expected a JSON object naming the pipeline's components");
        }
        catch (JsonException e) { throw new EvoMergeException($"{indexPath}: not valid JSON ({e.Message})"); }
        var components = new List<Component>();
        foreach (var (name, module) in ModelAnatomy.PipelineComponents)
        {
            if (!index.TryGetPropertyValue(name, out var entry) || entry is not JsonArray { Count: 2 } pair || pair[0] is null) continue;
            string componentFolder = Path.Combine(folder, name);
            if (!Directory.Exists(componentFolder))
                throw new EvoMergeException($"{indexPath}: field '{name}' names a component, but the folder {componentFolder} does not exist");
            components.Add(new Component(name, module, WeightsOf(componentFolder)));
        }
        if (components.Count == 0)
            throw new EvoMergeException($"{indexPath}: names none of {string.Join(", ", ModelAnatomy.PipelineComponents.Select(c => c.Folder))}; nothing to merge");
        return new DiffusionPipeline(folder, index, components);
    }

    /// <summary>The weights one component folder holds, as diffusers would pick them.</summary>
    static string WeightsOf(string folder)
    {
        foreach (string stem in WeightStems)
        {
            foreach (string plain in new[] { stem + ".safetensors.index.json", stem + ".safetensors" })
                if (InputFile.Exists(Path.Combine(folder, plain))) return Path.Combine(folder, plain);
        }
        // Variants only (diffusion_pytorch_model.fp16.safetensors, model.safetensors.index.fp16.json): take the one there is.
        var variants = Directory.EnumerateFiles(folder)
            .Select(Path.GetFileName)
            .Where(f => WeightStems.Any(s => f!.StartsWith(s + ".", StringComparison.Ordinal))
                && ((f!.EndsWith(".safetensors", StringComparison.Ordinal) && !f.Contains('-')) || (f.Contains(".safetensors.index.", StringComparison.Ordinal) && f.EndsWith(".json", StringComparison.Ordinal))))
            .Order(StringComparer.Ordinal).ToList();
        if (variants.Count == 1) return Path.Combine(folder, variants[0]!);
        if (variants.Count > 1)
            throw new EvoMergeException($"{folder}: several weight variants ({string.Join(", ", variants)}) and no plain {WeightStems[0]}.safetensors or model.safetensors; keep the one to merge");
        bool pickles = Directory.EnumerateFiles(folder, "*.bin").Any();
        throw new EvoMergeException($"{folder}: no diffusion_pytorch_model.safetensors or model.safetensors (nor a sharded index)" +
            (pickles ? "; EvoMerge reads safetensors only, never pickled .bin weights: convert them first" : ""));
    }

    /// <summary>The weight components as one model, names prefixed with their folder's (<c>unet.</c>, <c>vae.</c>).</summary>
    public SafetensorsModel OpenWeights() =>
        SafetensorsModel.OpenPrefixed(Components.Select(c => (c.Name + ".", c.WeightsPath)).ToList());

    /// <summary>The folder name of a module's component (<c>unet</c>, <c>text_encoder</c>, …).</summary>
    public static string FolderOf(ModelModule module) => ModelAnatomy.PipelineComponents.First(c => c.Module == module).Folder;
}
