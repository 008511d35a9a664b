using System.Text.Json;
using System.Text.Json.Nodes;
using EvoMerge.IO;
using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Recipes;

namespace EvoMerge.Merge.Output;

/// <summary>
/// Runs a planned diffusion recipe into a checkpoint of the sources' layout, all or nothing through
/// <see cref="OutputFolder"/>:
/// <list type="bullet">
/// <item>a diffusers pipeline folder, complete: each merged component's weights under diffusers' file name beside
/// its config.json; every other component of model_index.json (tokenizers, scheduler, components taken whole
/// through <c>components:</c>) copied from its source, a weight variant (<c>.fp16</c>) under the plain name that
/// diffusers loads by default; model_index.json kept, each taken component's entry from the model it came from;</item>
/// <item>a single-file checkpoint, <c>model.safetensors</c>: merged tensors, and the tensors of taken components
/// copied byte for byte.</item>
/// </list>
/// The recipe goes along as <c>mergekit_config.yml</c> with a README.md card, as for language models.
/// </summary>
public static class DiffusionModelWriter
{
    public static void Write(PlannedRecipe planned, string outputFolder, MergeOptions options, long maxShardBytes)
    {
        var inputs = planned.Models.Values.Select(m => Directory.Exists(m.Path) ? m.Path : Path.GetDirectoryName(m.Path)!).ToList();
        inputs.AddRange(planned.Loras.Select(l => Directory.Exists(l.Path) ? l.Path : Path.GetDirectoryName(l.Path)!));
        if (File.Exists(planned.Recipe.File)) inputs.Add(planned.Recipe.File);
        OutputFolder.Write(outputFolder, partial =>
        {
            if (planned.Reference.Pipeline is { } pipeline) WritePipeline(planned, pipeline, partial, options, maxShardBytes);
            else WriteSingleFile(planned, partial, options, maxShardBytes);
            File.WriteAllText(Path.Combine(partial, "mergekit_config.yml"), planned.Recipe.Text);
            File.WriteAllText(Path.Combine(partial, "README.md"), MergedModelWriter.ModelCard(planned, options, "diffusers"));
        }, inputs);
    }

    static readonly Dictionary<string, string> Metadata = new() { ["merged_by"] = "evomerge" };

    static void WritePipeline(PlannedRecipe planned, DiffusionPipeline pipeline, string partial, MergeOptions options, long maxShardBytes)
    {
        var jobs = planned.Plan.Jobs.Select((job, i) => (Component: ComponentOf(job.OutputName), Spec: new TensorSpec(job.OutputName, planned.OutputDTypes[i], job.Shape))).ToList();
        var merged = pipeline.Components.Where(c => jobs.Any(j => j.Component == c.Name)).ToList();
        var writers = new Dictionary<string, SafetensorsWriter>();
        try
        {
            foreach (var c in merged)
                writers[c.Name] = SafetensorsWriter.Create(Path.Combine(partial, c.Name),
                    jobs.Where(j => j.Component == c.Name).Select(j => j.Spec with { Name = j.Spec.Name[(c.Name.Length + 1)..] }), maxShardBytes, Metadata, c.Stem);
            MergeExecutor.Run(planned.Plan, planned.Parameters, WithLoras(planned, new ComponentTarget(writers)), options);
            foreach (var w in writers.Values) w.Complete();
        }
        finally
        {
            foreach (var w in writers.Values) w.Dispose();
        }
        foreach (var c in merged) CopyFiles(Path.Combine(pipeline.Folder, c.Name), Path.Combine(partial, c.Name), weights: false);

        var index = (JsonObject)pipeline.Index.DeepClone();
        foreach (var (name, entry) in pipeline.Index)
        {
            if (name.StartsWith('_') || entry is not JsonArray || merged.Any(c => c.Name == name)) continue;
            var source = planned.Components.TryGetValue(name, out var model) ? planned.Models[model] : planned.Reference;
            var from = source.Pipeline!;
            string sourceFolder = Path.Combine(from.Folder, name), target = Path.Combine(partial, name);
            if (!Directory.Exists(sourceFolder)) continue;   // a null entry's component, or one the pipeline leaves to the user
            CopyFiles(sourceFolder, target, weights: false);
            if (from.Components.FirstOrDefault(c => c.Name == name) is { } weights) CopyWeights(source, weights, target);
            if (!ReferenceEquals(source, planned.Reference)) index[name] = from.Index[name]?.DeepClone();
        }
        File.WriteAllText(Path.Combine(partial, DiffusionPipeline.IndexFileName), index.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    static void WriteSingleFile(PlannedRecipe planned, string partial, MergeOptions options, long maxShardBytes)
    {
        var copies = planned.Components.Where(c => RecipeComponents.Module(c.Key) != null)
            .SelectMany(c => planned.Models[c.Value].Weights.Tensors
                .Where(t => planned.Models[c.Value].Anatomy.DiffusionComponent(t.Name)?.Module == RecipeComponents.Module(c.Key))
                .Select(t => (Source: planned.Models[c.Value], Tensor: t)))
            .ToList();
        var specs = planned.Plan.Jobs.Select((j, i) => new TensorSpec(j.OutputName, planned.OutputDTypes[i], j.Shape))
            .Concat(copies.Select(c => new TensorSpec(c.Tensor.Name, c.Tensor.DType, c.Tensor.Shape)));
        using var writer = SafetensorsWriter.Create(partial, specs, maxShardBytes, Metadata);
        MergeExecutor.Run(planned.Plan, planned.Parameters, WithLoras(planned, new WriterTarget(writer)), options);
        const int chunk = 1 << 26;
        foreach (var (source, tensor) in copies)
            for (long at = 0; at < tensor.ByteLength; at += chunk)
            {
                int length = (int)Math.Min(chunk, tensor.ByteLength - at);
                writer.WriteBytes(tensor.Name, source.Weights.GetBytes(tensor, at, length), at);
            }
        writer.Complete();
    }

    /// <summary>The recipe's <c>loras:</c> folded into the merged tensors on their way to the files.</summary>
    static IMergeTarget WithLoras(PlannedRecipe planned, IMergeTarget target) =>
        planned.OutputLoras is { } loras ? Lora.Folding.LoraFoldingTarget.Wrap(target, loras) : target;

    static string ComponentOf(string name) => name[..name.IndexOf('.')];

    /// <summary>Weight formats a component folder may hold besides the safetensors read (other variants, pickles, Flax, ONNX, OpenVINO).</summary>
    static bool IsWeightFile(string fileName) =>
        fileName.Contains(".safetensors", StringComparison.Ordinal) || fileName.Contains(".bin.index", StringComparison.Ordinal)
        || fileName.StartsWith("openvino_", StringComparison.Ordinal)
        || Path.GetExtension(fileName) is ".bin" or ".ckpt" or ".pt" or ".pth" or ".msgpack" or ".onnx" or ".onnx_data" or ".h5" or ".pb" or ".gguf";

    /// <summary>Copies a component folder's files, sub-folders included, leaving out weight files (<paramref name="weights"/> false).</summary>
    static void CopyFiles(string from, string to, bool weights)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.EnumerateFiles(from))
            if (weights || !IsWeightFile(Path.GetFileName(file)))
                File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (string dir in Directory.EnumerateDirectories(from))
            if ((File.GetAttributes(dir) & FileAttributes.ReparsePoint) == 0)
                CopyFiles(dir, Path.Combine(to, Path.GetFileName(dir)), weights);
    }

    /// <summary>
    /// The weights a taken component was read from, byte for byte; a variant's single file or index under the plain
    /// name (diffusers loads the plain name unless told a variant), shards under their own names, which the index lists.
    /// </summary>
    static void CopyWeights(ModelFolder source, DiffusionPipeline.Component component, string target)
    {
        string read = component.WeightsPath;
        bool isIndex = read.EndsWith(".json", StringComparison.Ordinal);
        File.Copy(read, Path.Combine(target, component.Stem + (isIndex ? ".safetensors.index.json" : ".safetensors")));
        if (!isIndex) return;
        string folder = Path.GetFullPath(Path.GetDirectoryName(read)!) + Path.DirectorySeparatorChar;
        foreach (var file in source.Weights.Files.Where(f => Path.GetFullPath(f.Path).StartsWith(folder, StringComparison.Ordinal)))
            File.Copy(file.Path, Path.Combine(target, Path.GetFileName(file.Path)));
    }

    /// <summary>Sends each merged tensor (or row block) to its component's writer, under its name inside the component.</summary>
    sealed class ComponentTarget(Dictionary<string, SafetensorsWriter> writers) : IMergeBlockTarget
    {
        public void Accept(string name, ReadOnlySpan<long> shape, ReadOnlySpan<float> values) =>
            writers[ComponentOf(name)].WriteFloat32(name[(name.IndexOf('.') + 1)..], values);

        public void AcceptBlock(string name, ReadOnlySpan<long> shape, long elementOffset, ReadOnlySpan<float> values) =>
            writers[ComponentOf(name)].WriteFloat32(name[(name.IndexOf('.') + 1)..], values, elementOffset);
    }
}
