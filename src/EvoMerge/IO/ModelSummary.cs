using EvoMerge.Anatomy;
using System.Text.Json;

namespace EvoMerge.IO;

/// <summary>
/// What <c>evomerge inspect</c> shows about a model, computed from its headers and config alone (no tensor data
/// is read): parameter counts by dtype, shards, and per-layer tensor totals. <see cref="WriteJson"/> gives the
/// machine-readable form.
/// </summary>
public sealed record ModelSummary
{
    public required string Path { get; init; }
    public string? Architecture { get; init; }
    public bool LayoutKnown { get; init; }
    public long Parameters { get; init; }
    public long Bytes { get; init; }
    public int Layers { get; init; }
    /// <summary>Parameters per dtype, largest first.</summary>
    public required IReadOnlyList<(DType DType, long Parameters)> DTypes { get; init; }
    public required IReadOnlyList<(string File, int Tensors, long Bytes)> Shards { get; init; }
    public required IReadOnlyList<LayerRow> PerLayer { get; init; }
    /// <summary>Every tensor with its place in the model and its shard file name.</summary>
    public required IReadOnlyList<(TensorInfo Tensor, TensorPlace Place, string File)> Tensors { get; init; }
    public ModelConfig? Config { get; init; }

    /// <summary>Totals for one layer, or for one non-layer role (then <see cref="Layer"/> is -1).</summary>
    public sealed record LayerRow(TensorPlace Place, int Tensors, long Parameters, IReadOnlyList<DType> DTypes)
    {
        /// <summary>How a diffusion checkpoint's row is named (<c>IN04 (block 4)</c>, <c>text_encoder</c>); null for a language model's.</summary>
        public string? Label { get; init; }
    }

    /// <summary>A weight file's name; in a pipeline with its component folder (<c>unet/diffusion_pytorch_model.safetensors</c>).</summary>
    static string FileName(ModelFolder model, string path) =>
        model.Pipeline != null ? System.IO.Path.GetRelativePath(model.Path, path) : System.IO.Path.GetFileName(path);

    public static ModelSummary Of(ModelFolder model)
    {
        var tensors = model.Weights.Tensors
            .Select(t => (Tensor: t, Place: model.Anatomy.Place(t.Name), File: FileName(model, model.Weights.FileOf(t.Name).Path)))
            .ToList();
        var perLayer = tensors
            .GroupBy(t => t.Place with { Part = TensorPart.None })   // one row per layer, not per part
            .OrderBy(g => g.Key.Role == TensorRole.Layer ? 1 : g.Key.Role == TensorRole.Embedding ? 0 : 2)
            .ThenBy(g => g.Key.Layer).ThenBy(g => g.Key.Role)
            .Select(g => new LayerRow(g.Key, g.Count(), g.Sum(t => t.Tensor.ElementCount), g.Select(t => t.Tensor.DType).Distinct().Order().ToArray())
            {
                Label = !model.Anatomy.IsDiffusion ? null
                    : g.Key.Role == TensorRole.Layer ? $"{model.Anatomy.BlockName(g.Key.Layer)} (block {g.Key.Layer})"
                    : g.Key.Module == ModelModule.Unet ? "unet (outside the blocks)"
                    : DiffusionPipeline.FolderOf(g.Key.Module),
            })
            .ToList();
        return new ModelSummary
        {
            Path = model.Path,
            Architecture = model.Config?.Architecture ?? model.Pipeline?.ClassName,
            LayoutKnown = model.Anatomy.IsKnown,
            Parameters = tensors.Sum(t => t.Tensor.ElementCount),
            Bytes = tensors.Sum(t => t.Tensor.ByteLength),
            Layers = model.LayerCount,
            DTypes = tensors.GroupBy(t => t.Tensor.DType).Select(g => (g.Key, g.Sum(t => t.Tensor.ElementCount))).OrderByDescending(d => d.Item2).ToList(),
            Shards = model.Weights.Files.Select(f => (FileName(model, f.Path), f.Tensors.Count, f.Tensors.Sum(t => t.ByteLength))).ToList(),
            PerLayer = perLayer,
            Tensors = tensors,
            Config = model.Config,
        };
    }

    /// <summary>
    /// One JSON object: <c>path, architecture, layout, parameters, bytes, layers, dtypes</c> (dtype → parameters),
    /// <c>config</c> (the fields EvoMerge reads), <c>shards</c>, <c>per_layer</c> and <c>tensors</c> (name, dtype, shape, layer or role, file).
    /// </summary>
    public void WriteJson(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("path", Path);
        json.WriteString("architecture", Architecture);
        json.WriteString("layout", LayoutKnown ? "known" : "inferred");
        json.WriteNumber("parameters", Parameters);
        json.WriteNumber("bytes", Bytes);
        json.WriteNumber("layers", Layers);
        json.WriteStartObject("dtypes");
        foreach (var (dtype, parameters) in DTypes) json.WriteNumber(dtype.SafetensorsName(), parameters);
        json.WriteEndObject();
        if (Config is { } c)
        {
            json.WriteStartObject("config");
            json.WriteString("model_type", c.ModelType);
            WriteOptional(json, "num_hidden_layers", c.NumLayers);
            WriteOptional(json, "hidden_size", c.HiddenSize);
            WriteOptional(json, "intermediate_size", c.IntermediateSize);
            WriteOptional(json, "num_attention_heads", c.NumHeads);
            WriteOptional(json, "num_key_value_heads", c.NumKvHeads);
            WriteOptional(json, "head_dim", c.HeadDim);
            WriteOptional(json, "vocab_size", c.VocabSize);
            json.WriteBoolean("tie_word_embeddings", c.TieWordEmbeddings);
            if (c.RopeTheta is double theta) json.WriteNumber("rope_theta", theta);
            if (c.RopeScaling is string scaling)
            {
                json.WritePropertyName("rope_scaling");
                json.WriteRawValue(scaling);
            }
            json.WriteEndObject();
        }
        json.WriteStartArray("shards");
        foreach (var (file, count, bytes) in Shards)
        {
            json.WriteStartObject();
            json.WriteString("file", file);
            json.WriteNumber("tensors", count);
            json.WriteNumber("bytes", bytes);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteStartArray("per_layer");
        foreach (var row in PerLayer)
        {
            json.WriteStartObject();
            WritePlace(json, row.Place);
            json.WriteNumber("tensors", row.Tensors);
            json.WriteNumber("parameters", row.Parameters);
            json.WriteStartArray("dtypes");
            foreach (var d in row.DTypes) json.WriteStringValue(d.SafetensorsName());
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteStartArray("tensors");
        foreach (var (tensor, place, file) in Tensors)
        {
            json.WriteStartObject();
            json.WriteString("name", tensor.Name);
            json.WriteString("dtype", tensor.DType.SafetensorsName());
            json.WriteStartArray("shape");
            foreach (long d in tensor.Shape) json.WriteNumberValue(d);
            json.WriteEndArray();
            WritePlace(json, place);
            json.WriteString("file", file);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    static void WritePlace(Utf8JsonWriter json, TensorPlace place)
    {
        if (place.Role == TensorRole.Layer) json.WriteNumber("layer", place.Layer);
        else json.WriteString("role", RoleName(place.Role));
    }

    static void WriteOptional(Utf8JsonWriter json, string name, int? value)
    {
        if (value is int v) json.WriteNumber(name, v);
    }

    /// <summary>"embedding", "final_norm", "head", "other".</summary>
    public static string RoleName(TensorRole role) => role switch
    {
        TensorRole.FinalNorm => "final_norm",
        _ => role.ToString().ToLowerInvariant(),
    };
}
