namespace EvoMerge.IO.Gguf;

/// <summary>The hyperparameters llama.cpp needs for a Llama-family model. <see cref="Architecture"/> is GGUF's:
/// "llama" (Llama 1/2/3, Mistral) or "qwen2" (Q/K/V biases, rotate-half RoPE).</summary>
public sealed record GgufModelSpec(
    string Architecture,
    string Name,
    int ContextLength,
    int HiddenSize,
    int LayerCount,
    int IntermediateSize,
    int HeadCount,
    int KvHeadCount,
    int HeadDim,
    float RmsNormEps,
    float RopeTheta,
    int VocabSize)
{
    /// <summary>RoPE scaling from config.json, or null.</summary>
    public GgufRopeScaling? RopeScaling { get; init; }
}

/// <summary>A source tensor under its Hugging Face name, shape in PyTorch order, read as float32 on demand.</summary>
public sealed record GgufSourceTensor(string Name, long[] Shape, Action<Span<float>> ReadValues);

/// <summary>
/// Turns a Llama-family model (HF tensor names) into a GGUF file llama.cpp runs: metadata, tokenizer, GGUF
/// tensor names, Q/K rows permuted to llama.cpp's RoPE layout, and each tensor's storage type. Like llama.cpp's
/// converter and quantizer, 1-D tensors (norms, biases) stay float32 and <see cref="GgufTypeMix"/> picks each
/// matrix's type; <c>general.quantization_version</c> 2 marks files with quantized tensors, as the GGUF
/// specification requires.
/// </summary>
public static class LlamaGgufExport
{
    public static void Write(string path, GgufModelSpec spec, IReadOnlyList<GgufSourceTensor> tensors, GgufVocabulary vocabulary,
        GgufOutputType type, IProgress<GgufWriteProgress>? progress = null)
    {
        var planned = Plan(spec, tensors, type);
        GgufWriter.Write(path, Metadata(spec, vocabulary, type, planned), planned, progress);
    }

    /// <summary>The file's metadata; <paramref name="planned"/> (from <see cref="Plan"/>) tells whether any tensor is quantized.</summary>
    public static GgufMetadata Metadata(GgufModelSpec spec, GgufVocabulary vocabulary, GgufOutputType type, IReadOnlyList<GgufTensor> planned)
    {
        if (spec.Architecture is not ("llama" or "qwen2"))
            throw new EvoMergeException($"GGUF export: architecture '{spec.Architecture}' is not supported; expected llama or qwen2");
        var m = new GgufMetadata();
        string a = spec.Architecture;
        m.Add("general.architecture", a);
        m.Add("general.name", spec.Name);
        m.Add("general.file_type", type.FileType());
        if (planned.Any(t => GgufEncoding.IsQuantized(t.Type))) m.Add("general.quantization_version", 2u);
        m.Add("general.alignment", (uint)GgufWriter.Alignment);
        m.Add($"{a}.context_length", (uint)spec.ContextLength);
        m.Add($"{a}.embedding_length", (uint)spec.HiddenSize);
        m.Add($"{a}.block_count", (uint)spec.LayerCount);
        m.Add($"{a}.feed_forward_length", (uint)spec.IntermediateSize);
        m.Add($"{a}.attention.head_count", (uint)spec.HeadCount);
        m.Add($"{a}.attention.head_count_kv", (uint)spec.KvHeadCount);
        if (spec.HeadDim * spec.HeadCount != spec.HiddenSize)
        {
            m.Add($"{a}.attention.key_length", (uint)spec.HeadDim);
            m.Add($"{a}.attention.value_length", (uint)spec.HeadDim);
        }
        m.Add($"{a}.attention.layer_norm_rms_epsilon", spec.RmsNormEps);
        m.Add($"{a}.rope.freq_base", spec.RopeTheta);
        m.Add($"{a}.rope.dimension_count", (uint)spec.HeadDim);
        m.Add($"{a}.vocab_size", (uint)spec.VocabSize);
        spec.RopeScaling?.AddTo(m, a);
        vocabulary.PaddedTo(spec.VocabSize, "GGUF export").AddTo(m);
        return m;
    }

    public static List<GgufTensor> Plan(GgufModelSpec spec, IReadOnlyList<GgufSourceTensor> tensors, GgufOutputType type)
    {
        var named = new List<(GgufSourceTensor Source, string Name)>();
        foreach (var t in tensors)
        {
            if (LlamaGgufNames.IsSkipped(t.Name)) continue;
            named.Add((t, LlamaGgufNames.ToGguf(t.Name)
                ?? throw new EvoMergeException($"GGUF export: tensor '{t.Name}' is not part of a Llama-family model; expected HF names such as model.layers.N.self_attn.q_proj.weight")));
        }
        bool hasOutput = named.Exists(n => n.Name == "output.weight");
        var planned = named
            .Select(n => new GgufTensor(n.Name, n.Source.Shape, GgufTypeMix.Choose(type, n.Name, n.Source.Shape, spec.LayerCount, hasOutput), ReaderFor(spec, n.Source, n.Name)))
            .ToList();
        if (spec.RopeScaling?.FrequencyFactors(spec.HeadDim, spec.RopeTheta) is float[] factors)
            planned.Add(new GgufTensor("rope_freqs.weight", [factors.Length], GgufTensorType.F32, dst => factors.CopyTo(dst)));
        return planned;
    }

    static Action<Span<float>> ReaderFor(GgufModelSpec spec, GgufSourceTensor t, string ggufName)
    {
        // Only llama's graph rotates interleaved pairs; qwen2 uses rotate-half RoPE like the HF checkpoint.
        if (spec.Architecture != "llama") return t.ReadValues;
        int? heads = ggufName.Contains(".attn_q.") ? spec.HeadCount : ggufName.Contains(".attn_k.") ? spec.KvHeadCount : null;
        if (heads is not int h) return t.ReadValues;
        int columns = t.Shape.Length == 2 ? checked((int)t.Shape[1]) : 1;
        return values =>
        {
            t.ReadValues(values);
            RopePermutation.HfToInterleaved(values, h, columns);
        };
    }
}
