using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EvoMerge.IO;

namespace EvoMerge.Moe;

/// <summary>What <see cref="MoeBuilder.Build"/> needs besides the config.</summary>
public sealed record MoeBuildOptions
{
    /// <summary>Seed of random gates and expert noise; the same seed gives the same folder.</summary>
    public int Seed { get; init; }
    /// <summary>Build even when every expert is the same model (useful only before training: mergekit's
    /// <c>--i-understand-this-is-not-useful-without-training</c>).</summary>
    public bool AllowIdenticalExperts { get; init; }
    /// <summary>Opens the base model's forward for the hidden gate modes (the runtime's seam).</summary>
    public Func<string, IHiddenStateSource>? HiddenStates { get; init; }
    /// <summary>Told each step ("gates", "layer 3/32", ...).</summary>
    public IProgress<string>? Progress { get; init; }
    public CancellationToken Cancellation { get; init; }
}

/// <summary>What was written, for the command's summary.</summary>
public sealed record MoeBuildResult(int Layers, int Experts, int ExpertsPerToken, DType DType, long Parameters,
    IReadOnlyList<int> DegenerateLayers, IReadOnlyList<string> Warnings);

/// <summary>
/// Builds a Mixtral mixture of experts from dense Llama/Mistral models, as mergekit-moe does: attention, norms,
/// embeddings and head from the base; in every layer, expert e's <c>w1</c>/<c>w2</c>/<c>w3</c> from expert model e's
/// <c>gate_proj</c>/<c>down_proj</c>/<c>up_proj</c>; the router <c>block_sparse_moe.gate.weight</c> [experts × hidden]
/// from <see cref="RouterGates"/>. The folder (config.json for <c>MixtralForCausalLM</c>, safetensors, the base's
/// tokenizer files, the config as <c>mergekit_moe_config.yml</c>, README.md) is written all or nothing. Tensors are
/// streamed a range at a time, so memory stays flat whatever the model size.
/// </summary>
public static class MoeBuilder
{
    static readonly (string Source, string Target)[] ExpertProjections = [("gate_proj", "w1"), ("down_proj", "w2"), ("up_proj", "w3")];

    public static MoeBuildResult Build(MoeConfig config, string outputFolder, MoeBuildOptions options)
    {
        var opened = new Dictionary<string, ModelFolder>();
        try
        {
            ModelFolder Open(string reference) => opened.TryGetValue(reference, out var m) ? m : opened[reference] = ModelFolder.Open(reference);
            var baseModel = Open(config.BaseModel);
            var shape = BaseShape(baseModel, config);
            var experts = config.Experts.Select(e => Open(e.SourceModel)).ToList();
            if (!options.AllowIdenticalExperts && experts.Count > 1 && experts.All(e => ReferenceEquals(e, experts[0])))
                throw new EvoMergeException($"{config.Experts[0].Mark}: every expert is the same model ({config.Experts[0].SourceModel}): the MoE would compute exactly what it does, " +
                    "at more cost; pass --allow-identical-experts if you will train it (sparse upcycling)");
            for (int e = 0; e < experts.Count; e++) CheckExpert(config.Experts[e], experts[e], baseModel, shape.Layers);
            var dtype = OutputDType(config, baseModel);

            options.Progress?.Report($"gates ({ModeName(config.GateMode)})");
            string baseDir = FolderOf(baseModel);
            var gates = RouterGates.Compute(config, baseModel, shape.Layers, shape.Hidden,
                options.HiddenStates == null ? null : () => options.HiddenStates(baseDir), options.Seed);
            var degenerate = RouterGates.DegenerateLayers(gates, experts.Count);

            var inputs = opened.Values.Select(FolderOf).Distinct().ToList();
            if (File.Exists(config.File)) inputs.Add(config.File);
            long parameters = 0;
            OutputFolder.Write(outputFolder, partial =>
            {
                var jobs = Jobs(config, baseModel, experts, shape.Layers, gates).ToList();
                var specs = jobs.Select(j => new TensorSpec(j.Name, dtype, j.Shape)).ToList();
                parameters = specs.Sum(s => TensorInfo.ElementCountOf(s.Shape));
                using (var writer = SafetensorsWriter.Create(partial, specs, metadata: new Dictionary<string, string> { ["merged_by"] = "evomerge moe" }))
                {
                    int done = 0;
                    foreach (var job in jobs)
                    {
                        options.Cancellation.ThrowIfCancellationRequested();
                        if (job.Values != null) writer.WriteFloat32(job.Name, job.Values);
                        else Copy(job, writer, dtype, options.Seed);
                        if (++done % 16 == 0) options.Progress?.Report($"tensors {done}/{jobs.Count}");
                    }
                    writer.Complete();
                }
                File.WriteAllText(Path.Combine(partial, ModelFolder.ConfigFileName), MixtralConfigJson(baseModel.Config!, experts.Count, config.ExpertsPerToken, dtype));
                baseModel.CopyAuxiliaryFilesTo(partial);
                File.WriteAllText(Path.Combine(partial, "mergekit_moe_config.yml"), config.Text);
                File.WriteAllText(Path.Combine(partial, "README.md"), ModelCard(config, options.Seed, degenerate));
            }, inputs);
            var warnings = config.Warnings.ToList();
            if (degenerate.Count > 0)
                warnings.Add($"{DescribeLayers(degenerate, shape.Layers)} degenerate router rows (condition number above {RouterGates.DegenerateCondition}): " +
                    "the prompts of some experts are too similar, so those experts will be underused");
            return new MoeBuildResult(shape.Layers, experts.Count, config.ExpertsPerToken, dtype, parameters, degenerate, warnings);
        }
        finally
        {
            foreach (var m in opened.Values) m.Dispose();
        }
    }

    public static string GateName(int layer) => $"model.layers.{layer}.block_sparse_moe.gate.weight";

    static string MlpName(int layer, string projection) => $"model.layers.{layer}.mlp.{projection}.weight";

    /// <summary>One output tensor: where its values come from and what is done to them on the way, or its
    /// values (the router).</summary>
    sealed record CopyJob(string Name, long[] Shape, ModelFolder? Source, TensorInfo? Info, double? NoiseScale, double? Scale, float[]? Values = null);

    /// <summary>The output tensors in the order a reader expects: embeddings, each layer (the base's attention and norms,
    /// then the router and the experts), final norm and head.</summary>
    static IEnumerable<CopyJob> Jobs(MoeConfig config, ModelFolder baseModel, List<ModelFolder> experts, int layers, float[][] gates)
    {
        // Everything of the base but its MLPs, as mergekit copies every non-".mlp." weight.
        var kept = baseModel.Weights.Tensors.Where(t => !t.Name.Contains(".mlp.", StringComparison.Ordinal))
            .GroupBy(t => baseModel.Anatomy.LayerOf(t.Name)).ToDictionary(g => g.Key, g => g.ToList());
        var outside = kept.GetValueOrDefault(-1) ?? [];
        var (before, after) = (outside.Where(t => baseModel.Anatomy.Place(t.Name).Role == Anatomy.TensorRole.Embedding).ToList(),
            outside.Where(t => baseModel.Anatomy.Place(t.Name).Role != Anatomy.TensorRole.Embedding).ToList());
        foreach (var t in before) yield return new CopyJob(t.Name, t.Shape, baseModel, t, null, null);
        for (int l = 0; l < layers; l++)
        {
            foreach (var t in kept.GetValueOrDefault(l) ?? []) yield return new CopyJob(t.Name, t.Shape, baseModel, t, null, null);
            yield return new CopyJob(GateName(l), [experts.Count, gates[l].Length / experts.Count], null, null, null, null, gates[l]);
            for (int e = 0; e < experts.Count; e++)
                foreach (var (source, target) in ExpertProjections)
                {
                    var info = experts[e].Weights.GetInfo(MlpName(l, source));
                    yield return new CopyJob($"model.layers.{l}.block_sparse_moe.experts.{e}.{target}.weight", info.Shape, experts[e], info,
                        config.Experts[e].NoiseScale, source == "down_proj" ? config.Experts[e].ResidualScale : null);
                }
        }
        foreach (var t in after) yield return new CopyJob(t.Name, t.Shape, baseModel, t, null, null);
    }

    /// <summary>Copies a tensor in ranges: bytes as they are when nothing changes, else through float32.</summary>
    static void Copy(CopyJob job, SafetensorsWriter writer, DType dtype, int seed)
    {
        var (source, info) = (job.Source!, job.Info!);
        const int RangeElements = 1 << 22;
        int size = info.DType.ElementSize();
        bool transform = job.NoiseScale is > 0 || job.Scale is not (null or 1.0);
        if (!transform && info.DType == dtype)
        {
            for (long start = 0; start < info.ByteLength; start += RangeElements * (long)size)
            {
                int count = (int)Math.Min(RangeElements * (long)size, info.ByteLength - start);
                writer.WriteBytes(job.Name, source.Weights.GetBytes(info, start, count), start);
            }
            return;
        }
        if (!info.DType.IsFloat())
            throw new EvoMergeException($"{source.Path}: tensor '{info.Name}' is {info.DType}; expected floats");
        // Noise is seeded by the seed and the tensor's output name: the same inputs give the same folder.
        var rng = job.NoiseScale is > 0 ? new Random(unchecked(seed * 16777619 ^ StableHash(job.Name))) : null;
        var buffer = new float[(int)Math.Min(RangeElements, info.ElementCount)];
        for (long start = 0; start < info.ElementCount; start += RangeElements)
        {
            int count = (int)Math.Min(RangeElements, info.ElementCount - start);
            var values = buffer.AsSpan(0, count);
            FloatConversion.ToFloat32(source.Weights.GetBytes(info, start * size, count * size), info.DType, values);
            for (int i = 0; i < count; i++)
            {
                double v = values[i];
                if (rng != null) v += RouterGates.Gaussian(rng) * job.NoiseScale!.Value;
                if (job.Scale is double s) v *= s;
                values[i] = (float)v;
            }
            writer.WriteFloat32(job.Name, values, start);
        }
    }

    /// <summary>FNV-1a of the name: string.GetHashCode and HashCode.Combine differ from run to run.</summary>
    static int StableHash(string text)
    {
        uint h = 2166136261;
        foreach (char c in text) h = (h ^ c) * 16777619;
        return (int)h;
    }

    sealed record Shape(int Layers, int Hidden);

    /// <summary>The base must be a Llama or Mistral decoder: Mixtral is Mistral with MoE MLPs, so nothing else maps onto it.</summary>
    static Shape BaseShape(ModelFolder model, MoeConfig config)
    {
        string where = $"{config.BaseModelMark}: base_model {model.Path}";
        var c = model.Config ?? throw new EvoMergeException($"{where}: no config.json; the MoE's config is made from the base's");
        bool llamaLike = c.ModelType is "llama" or "mistral" || (c.ModelType == null && c.Architecture is "LlamaForCausalLM" or "MistralForCausalLM");
        if (!llamaLike)
            throw new EvoMergeException($"{where}: model_type '{c.ModelType ?? c.Architecture}'; a Mixtral MoE is built from Llama or Mistral models");
        if (c.AttentionBias || c.MlpBias)
            throw new EvoMergeException($"{where}: has {(c.AttentionBias ? "attention" : "MLP")} biases, which Mixtral has no place for");
        int layers = c.NumLayers ?? model.LayerCount, hidden = c.HiddenSize ?? 0;
        if (layers <= 0 || hidden <= 0) throw new EvoMergeException($"{where}: config.json lacks num_hidden_layers or hidden_size");
        for (int l = 0; l < layers; l++)
            foreach (var (p, _) in ExpertProjections)
                if (!model.Weights.Contains(MlpName(l, p)))
                    throw new EvoMergeException($"{where}: no tensor '{MlpName(l, p)}'; experts are made of the dense MLPs gate_proj, up_proj, down_proj");
        return new Shape(layers, hidden);
    }

    /// <summary>Every MLP tensor of an expert must have the base's shape: one router spans all experts of a layer.</summary>
    static void CheckExpert(MoeExpert expert, ModelFolder model, ModelFolder baseModel, int layers)
    {
        if (model.LayerCount != layers)
            throw new EvoMergeException($"{expert.Mark}: source_model {expert.SourceModel} has {model.LayerCount} layers, the base {layers}; experts need the base's layer count");
        for (int l = 0; l < layers; l++)
            foreach (var (p, _) in ExpertProjections)
            {
                string name = MlpName(l, p);
                if (!model.Weights.TryGetInfo(name, out var info))
                    throw new EvoMergeException($"{expert.Mark}: source_model {expert.SourceModel} has no tensor '{name}'");
                var wanted = baseModel.Weights.GetInfo(name);
                if (!info.Shape.SequenceEqual(wanted.Shape))
                    throw new EvoMergeException($"{expert.Mark}: source_model {expert.SourceModel}: tensor '{name}' is {info.ShapeText} but the base's is {wanted.ShapeText}; every expert needs the base's hidden and intermediate sizes");
            }
    }

    /// <summary>The config's <c>dtype</c>, else the base's <c>torch_dtype</c>, else its tensors' (mergekit's order).</summary>
    static DType OutputDType(MoeConfig config, ModelFolder baseModel)
    {
        if (config.Dtype != null) return UserChoices.DType(config.Dtype, $"{config.DtypeMark}: dtype");
        if (baseModel.Config?.TorchDType is { } t && t is "float32" or "bfloat16" or "float16") return UserChoices.DType(t, "torch_dtype");
        var stored = baseModel.Weights.Tensors[0].DType;
        return stored is DType.BF16 or DType.F16 ? stored : DType.F32;
    }

    /// <summary>The base's config.json turned into Mixtral's, as mergekit does (MistralConfig → MixtralConfig): every
    /// field passed through, plus the expert counts, no sliding window, the output dtype.</summary>
    static string MixtralConfigJson(ModelConfig baseConfig, int experts, int perToken, DType dtype)
    {
        var json = (JsonObject)baseConfig.Json.DeepClone();
        json["architectures"] = new JsonArray("MixtralForCausalLM");
        json["model_type"] = "mixtral";
        json["num_local_experts"] = experts;
        json["num_experts_per_tok"] = perToken;
        json["sliding_window"] = null;
        json.Remove("mlp_bias");
        json["torch_dtype"] = dtype switch { DType.BF16 => "bfloat16", DType.F16 => "float16", _ => "float32" };
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    static string ModelCard(MoeConfig config, int seed, IReadOnlyList<int> degenerate)
    {
        var card = new StringBuilder();
        card.AppendLine("---").AppendLine("library_name: transformers").AppendLine("tags:").AppendLine("- moe").AppendLine("- merge").AppendLine("- evomerge").AppendLine("---");
        card.AppendLine("# Mixture of experts").AppendLine();
        card.AppendLine(CultureInfo.InvariantCulture, $"Made with `evomerge moe` (Mixtral layout, gate_mode {ModeName(config.GateMode)}, seed {seed}), " +
            $"{config.Experts.Count} experts, {config.ExpertsPerToken} per token.").AppendLine();
        card.AppendLine(CultureInfo.InvariantCulture, $"- base (attention, norms, embeddings): {config.BaseModel}");
        foreach (var (e, i) in config.Experts.Select((e, i) => (e, i)))
            card.AppendLine(CultureInfo.InvariantCulture, $"- expert {i}: {e.SourceModel}");
        if (degenerate.Count > 0) card.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"Degenerate router rows in layers {string.Join(", ", degenerate)}.");
        card.AppendLine().AppendLine("## Config").AppendLine().AppendLine("```yaml").AppendLine(config.Text.TrimEnd()).AppendLine("```");
        return card.ToString();
    }

    public static string ModeName(GateMode mode) => MoeConfigParser.GateModes.First(kv => kv.Value == mode).Key;

    static string DescribeLayers(IReadOnlyList<int> layers, int total) =>
        layers.Count >= total ? "all layers have" : layers.Count == 1 ? $"layer {layers[0]} has" : $"layers {string.Join(", ", layers)} have";

    static string FolderOf(ModelFolder m) => Directory.Exists(m.Path) ? m.Path : Path.GetDirectoryName(m.Path)!;
}
