using EvoMerge.Anatomy;
namespace EvoMerge.IO;

/// <summary>
/// A model as Hugging Face lays it out: <c>config.json</c>, safetensors weights (one file or shards) and the
/// tokenizer and generation files, which EvoMerge never interprets here but copies through when it writes a model.
/// Opened from a folder, a single <c>.safetensors</c> file, or a cached Hugging Face id (<see cref="ModelReference"/>).
/// </summary>
public sealed class ModelFolder : IDisposable
{
    public const string ConfigFileName = "config.json";

    /// <summary>Files copied through unchanged to a merged model.</summary>
    public static readonly IReadOnlyList<string> AuxiliaryFileNames =
    [
        "tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
        "vocab.json", "merges.txt", "generation_config.json", "chat_template.jinja", "chat_template.json",
        "tokenizer.bin", // llama2.c's tokenizer, as `evomerge import llama2c` writes it
        "preprocessor_config.json", "processor_config.json", // a VLM's image processor and processor (LLaVA)
    ];

    /// <summary>The folder (or the single file) the model was opened from.</summary>
    public string Path { get; }

    /// <summary>config.json, or null for a bare weights file or folder without one.</summary>
    public ModelConfig? Config { get; }

    public SafetensorsModel Weights { get; }

    /// <summary>Which tensors are per-layer, embeddings, final norm or head.</summary>
    public ModelAnatomy Anatomy { get; }

    /// <summary>Decoder layer count: from the tensor names (equal to config.json's when both are present).</summary>
    public int LayerCount { get; }

    /// <summary>Full paths of the tokenizer and generation files present (<see cref="AuxiliaryFileNames"/>).</summary>
    public IReadOnlyList<string> AuxiliaryFiles { get; }

    /// <summary>For a diffusers pipeline folder, its components; null for any other model.</summary>
    public DiffusionPipeline? Pipeline { get; }

    ModelFolder(string path, ModelConfig? config, SafetensorsModel weights, IReadOnlyList<string> auxiliaryFiles, string configPath,
        DiffusionPipeline? pipeline = null)
    {
        Path = path;
        Pipeline = pipeline;
        Config = config;
        Weights = weights;
        try { Anatomy = ModelAnatomy.Of(config?.Architecture, weights.Tensors.Select(t => t.Name)); }
        catch (EvoMergeException e) { throw new EvoMergeException($"{path}: {e.Message}", e); }
        AuxiliaryFiles = auxiliaryFiles;
        // The layers of the layered module only (a diffusion checkpoint's UNet blocks): a VLM's vision tower numbers its own layers.
        var deepest = weights.Tensors.Where(t => Anatomy.Place(t.Name).Module == Anatomy.LayeredModule)
            .Select(t => (t.Name, Layer: Anatomy.LayerOf(t.Name))).DefaultIfEmpty((Name: "", Layer: -1)).MaxBy(t => t.Layer);
        if (deepest.Layer >= SanityBounds.MaxLayers)
            throw new EvoMergeException($"{path}: tensor '{deepest.Name}' is in layer {deepest.Layer}; at most {SanityBounds.MaxLayers} layers are supported");
        int fromNames = deepest.Layer + 1;
        if (config?.NumLayers is int declared && fromNames > 0 && declared != fromNames)
            throw new EvoMergeException($"{configPath}: num_hidden_layers is {declared} but the weights have layers 0..{fromNames - 1}");
        LayerCount = fromNames > 0 ? fromNames : config?.NumLayers ?? 0;
    }

    /// <summary>Opens a folder, a .safetensors file, or a cached Hugging Face id (<c>org/name[@revision]</c>).</summary>
    public static ModelFolder Open(string reference)
    {
        string path = ModelReference.Resolve(reference);
        string folder = Directory.Exists(path) ? path : System.IO.Path.GetDirectoryName(path)!;
        string configPath = System.IO.Path.Combine(folder, ConfigFileName);
        if (Directory.Exists(path) && DiffusionPipeline.IsPipeline(path)) return OpenPipeline(path, configPath);
        var config = InputFile.Exists(configPath) ? ModelConfig.Load(configPath) : null;
        var aux = AuxiliaryFileNames.Select(n => System.IO.Path.Combine(folder, n)).Where(InputFile.Exists).ToArray();
        var weights = SafetensorsModel.Open(path);
        try
        {
            return new ModelFolder(path, config, weights, aux, configPath);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    /// <summary>The anatomy of the model at <paramref name="reference"/>, from its headers (the files are closed again).</summary>
    public static ModelAnatomy AnatomyOf(string reference)
    {
        using var model = Open(reference);
        return model.Anatomy;
    }

    /// <summary>A diffusers pipeline: its weight components as one model (names prefixed <c>unet.</c>, <c>vae.</c>, …), no config.json.</summary>
    static ModelFolder OpenPipeline(string path, string configPath)
    {
        var pipeline = DiffusionPipeline.Open(path);
        var weights = pipeline.OpenWeights();
        try
        {
            return new ModelFolder(path, null, weights, [], configPath, pipeline);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    /// <summary>The tensors of layer <paramref name="layer"/>, in file order.</summary>
    /// <remarks>Of the layered module only: a VLM's vision tower numbers its own layers.</remarks>
    public IEnumerable<TensorInfo> TensorsOfLayer(int layer) =>
        Weights.Tensors.Where(t => Anatomy.LayerOf(t.Name) == layer && Anatomy.Place(t.Name).Module == Anatomy.LayeredModule);

    /// <summary>Copies the tokenizer and generation files into <paramref name="destination"/>, replacing any there.</summary>
    public void CopyAuxiliaryFilesTo(string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (string file in AuxiliaryFiles)
            File.Copy(file, System.IO.Path.Combine(destination, System.IO.Path.GetFileName(file)), overwrite: true);
    }

    public void Dispose() => Weights.Dispose();
}
