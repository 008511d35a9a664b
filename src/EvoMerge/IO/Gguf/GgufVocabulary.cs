namespace EvoMerge.IO.Gguf;

/// <summary>
/// A tokenizer as llama.cpp reads it from <c>tokenizer.ggml.*</c>: "llama" (SentencePiece-style: pieces with
/// scores, <c>▁</c> for spaces, <c>&lt;0xNN&gt;</c> byte fallback) or "gpt2" (byte-level BPE with ranked merges).
/// </summary>
public sealed record GgufVocabulary(
    string Model,
    IReadOnlyList<string> Tokens,
    IReadOnlyList<GgufTokenType> Types,
    IReadOnlyList<float>? Scores,
    IReadOnlyList<string>? Merges,
    int? BosId,
    int? EosId,
    int? UnknownId)
{
    /// <summary>llama.cpp's pre-tokenizer name for "gpt2" vocabularies (e.g. "qwen2", "llama-bpe").</summary>
    public string? PreTokenizer { get; init; }

    /// <summary>
    /// Pads the vocabulary to <paramref name="vocabSize"/> embedding rows with unused "[PADn]" tokens, as
    /// llama.cpp's converter does for checkpoints whose embedding has more rows than the tokenizer has pieces.
    /// </summary>
    public GgufVocabulary PaddedTo(int vocabSize, string source)
    {
        if (Tokens.Count > vocabSize)
            throw new EvoMergeException($"{source}: the tokenizer has {Tokens.Count} tokens but the model's vocab_size is {vocabSize}; expected at most {vocabSize}");
        if (Tokens.Count == vocabSize) return this;
        var extra = Enumerable.Range(Tokens.Count, vocabSize - Tokens.Count).ToList();
        return this with
        {
            Tokens = [.. Tokens, .. extra.Select(i => $"[PAD{i}]")],
            Types = [.. Types, .. extra.Select(_ => GgufTokenType.Unused)],
            Scores = Scores == null ? null : [.. Scores, .. extra.Select(_ => -1000f)],
        };
    }

    public void AddTo(GgufMetadata metadata)
    {
        metadata.Add("tokenizer.ggml.model", Model);
        if (PreTokenizer != null) metadata.Add("tokenizer.ggml.pre", PreTokenizer);
        metadata.Add("tokenizer.ggml.tokens", Tokens);
        if (Scores != null) metadata.Add("tokenizer.ggml.scores", Scores);
        metadata.Add("tokenizer.ggml.token_type", Types.Select(t => (int)t).ToArray());
        if (Merges != null) metadata.Add("tokenizer.ggml.merges", Merges);
        if (BosId is int bos) metadata.Add("tokenizer.ggml.bos_token_id", (uint)bos);
        if (EosId is int eos) metadata.Add("tokenizer.ggml.eos_token_id", (uint)eos);
        if (UnknownId is int unk) metadata.Add("tokenizer.ggml.unknown_token_id", (uint)unk);
        // SentencePiece-style Llama vocabularies expect BOS in front of every prompt. For byte-level BPE the key is
        // left out: llama.cpp then decides by pre-tokenizer (BOS for llama-bpe, as Llama 3 wants; none for qwen2).
        if (Model == "llama") metadata.Add("tokenizer.ggml.add_bos_token", BosId != null);
    }
}
