using EvoMerge.Tokenization;

namespace EvoMerge.IO.Gguf;

/// <summary>
/// Exports a Hugging Face model folder (Llama, Mistral, Qwen2; safetensors of any float dtype) to GGUF: reads
/// config.json for the hyperparameters, the tokenizer file for <c>tokenizer.ggml.*</c>, and streams the tensors
/// one at a time from the memory-mapped safetensors through float32 into the chosen GGUF type.
/// </summary>
public static class ModelFolderGgufExport
{
    public static void Export(ModelFolder model, string outPath, GgufOutputType type, IProgress<GgufWriteProgress>? progress = null)
    {
        string folder = Directory.Exists(model.Path) ? model.Path : Path.GetDirectoryName(model.Path)!;
        string configPath = Path.Combine(folder, ModelFolder.ConfigFileName);
        OutputPath.Check(outPath, [folder], folder: false);   // before any work: never into the model, never over a file
        var spec = Spec(model, configPath);
        var vocabulary = Vocabulary(folder, spec, model.Config!);
        var tensors = model.Weights.Tensors
            .Select(info => new GgufSourceTensor(info.Name, info.Shape, dst => model.Weights.ReadFloat32(info.Name, dst)))
            .ToList();
        LlamaGgufExport.Write(outPath, spec, tensors, vocabulary, type, progress);
    }

    static GgufModelSpec Spec(ModelFolder model, string configPath)
    {
        var c = model.Config ?? throw new EvoMergeException($"{configPath}: not found; GGUF export needs the model's config.json");
        string architecture = c.ModelType switch
        {
            "llama" or "mistral" => "llama",
            "qwen2" => "qwen2",
            _ => throw new EvoMergeException($"{configPath}: field 'model_type' is '{c.ModelType}'; GGUF export supports llama, mistral and qwen2"),
        };
        int Need(int? value, string field) => value ?? throw new EvoMergeException($"{configPath}: field '{field}' is missing; GGUF export needs it");
        return new GgufModelSpec(
            architecture,
            Path.GetFileName(Path.TrimEndingDirectorySeparator(model.Path)),
            Need(c.MaxPositionEmbeddings, "max_position_embeddings"),
            Need(c.HiddenSize, "hidden_size"),
            model.LayerCount,
            Need(c.IntermediateSize, "intermediate_size"),
            Need(c.NumHeads, "num_attention_heads"),
            Need(c.NumKvHeads, "num_key_value_heads"),
            Need(c.HeadDim, "head_dim"),
            (float)(c.NormEpsilon ?? throw new EvoMergeException($"{configPath}: field 'rms_norm_eps' is missing; GGUF export needs it")),
            (float)(c.RopeTheta ?? 10000.0),
            Need(c.VocabSize, "vocab_size"))
        {
            RopeScaling = GgufRopeScaling.Parse(c.RopeScaling, configPath),
        };
    }

    /// <summary>The folder's tokenizer, chosen as <see cref="TokenizerFactory"/> does, with config.json's BOS/EOS ids.</summary>
    static GgufVocabulary Vocabulary(string folder, GgufModelSpec spec, ModelConfig config)
    {
        string Of(string name) => Path.Combine(folder, name);
        GgufVocabulary vocabulary;
        if (InputFile.Exists(Of("tokenizer.model"))) vocabulary = SentencePieceVocabulary.Read(Of("tokenizer.model"));
        else if (InputFile.Exists(Of("tokenizer.json")))
            vocabulary = TokenizerJsonVocabulary.Read(Of("tokenizer.json"), spec.Architecture == "qwen2" ? "qwen2" : "llama-bpe");
        else if (InputFile.Exists(Of(TokenizerFactory.Llama2cFileName))) vocabulary = Llama2cVocabulary.Read(Of(TokenizerFactory.Llama2cFileName), spec.VocabSize);
        else throw new EvoMergeException($"{folder}: no tokenizer (expected tokenizer.model, tokenizer.json or {TokenizerFactory.Llama2cFileName}); GGUF files carry their tokenizer");
        return vocabulary with { BosId = config.BosTokenId ?? vocabulary.BosId, EosId = config.EosTokenId ?? vocabulary.EosId };
    }
}
