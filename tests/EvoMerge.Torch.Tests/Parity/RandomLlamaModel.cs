using System.Text;
using EvoMerge.Torch.Model;

namespace EvoMerge.Torch.Tests.Parity;

/// <summary>
/// A small Llama-architecture model with seeded random weights (GQA, untied head), large enough in scale that
/// logits spread over several units and attention is peaked, so that layout mistakes (RoPE order, transposes,
/// head grouping) move the logits visibly. Its tokenizer is a SentencePiece-shaped llama2.c file
/// (unk, BOS, EOS, 256 byte pieces, a few words).
/// </summary>
public static class RandomLlamaModel
{
    public static readonly LlamaConfig Config = new LlamaConfig
    {
        VocabSize = 288, HiddenSize = 64, IntermediateSize = 96, NumLayers = 2, NumHeads = 4, NumKvHeads = 2,
        RmsNormEps = 1e-5f, RopeTheta = 10000, MaxPositionEmbeddings = 128, BosTokenId = 1, EosTokenId = 2,
    }.Validated();

    /// <summary>The same shape as Qwen2: biases on the q, k and v projections.</summary>
    public static readonly LlamaConfig Qwen2Config = Config with { AttentionBias = true };

    /// <summary>Rows of 256 and 512, whole k-quant super-blocks, and eight layers so that the _M mixes differ by layer.
    /// Create it with <c>attentionScale: 1</c>: eight layers of peaked attention are chaotic (Q8_0 rounding alone
    /// moves logits by their whole spread), which hides any difference between runtimes.</summary>
    public static readonly LlamaConfig WideConfig = Config with { HiddenSize = 256, IntermediateSize = 512, NumLayers = 8, HeadDim = 64, MaxPositionEmbeddings = 256 };

    /// <summary>Tensors in HF naming and PyTorch shapes, deterministic for a seed; Qwen2-shaped with <paramref name="qwen2"/>,
    /// or of the shape <paramref name="config"/> gives (same vocabulary).</summary>
    public static HfModelFixture Create(int seed, bool qwen2 = false, LlamaConfig? config = null, double attentionScale = 3)
    {
        var c = config ?? (qwen2 ? Qwen2Config : Config);
        var rng = new Random(seed);
        var list = new List<(string, long[], float[])>();
        void Matrix(string name, int rows, int cols, double std) => list.Add((name, [rows, cols], Gaussian(rng, rows * cols, 0, std)));
        void Norm(string name) => list.Add((name, [c.HiddenSize], Gaussian(rng, c.HiddenSize, 1, 0.2)));

        double fanIn = 1 / Math.Sqrt(c.HiddenSize);
        Matrix("model.embed_tokens.weight", c.VocabSize, c.HiddenSize, 1.0);
        for (int l = 0; l < c.NumLayers; l++)
        {
            string p = $"model.layers.{l}.";
            Norm(p + "input_layernorm.weight");
            Matrix(p + "self_attn.q_proj.weight", c.NumHeads * c.HeadDim, c.HiddenSize, attentionScale * fanIn);
            Matrix(p + "self_attn.k_proj.weight", c.NumKvHeads * c.HeadDim, c.HiddenSize, attentionScale * fanIn);
            Matrix(p + "self_attn.v_proj.weight", c.NumKvHeads * c.HeadDim, c.HiddenSize, fanIn);
            if (qwen2)
                foreach (var (proj, rows) in new[] { ("q", c.NumHeads), ("k", c.NumKvHeads), ("v", c.NumKvHeads) })
                    list.Add(($"{p}self_attn.{proj}_proj.bias", [rows * c.HeadDim], Gaussian(rng, rows * c.HeadDim, 0, 0.5)));
            Matrix(p + "self_attn.o_proj.weight", c.HiddenSize, c.NumHeads * c.HeadDim, fanIn);
            Norm(p + "post_attention_layernorm.weight");
            Matrix(p + "mlp.gate_proj.weight", c.IntermediateSize, c.HiddenSize, fanIn);
            Matrix(p + "mlp.up_proj.weight", c.IntermediateSize, c.HiddenSize, fanIn);
            Matrix(p + "mlp.down_proj.weight", c.HiddenSize, c.IntermediateSize, 1 / Math.Sqrt(c.IntermediateSize));
        }
        Norm("model.norm.weight");
        Matrix("lm_head.weight", c.VocabSize, c.HiddenSize, 2 * fanIn);
        return new HfModelFixture(c, list, qwen2 ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
    }

    /// <summary>Writes the model's vocabulary in llama2.c's tokenizer format (what import llama2c puts in a folder).</summary>
    public static void WriteTokenizer(string path)
    {
        using var w = new BinaryWriter(File.Create(path));
        w.Write(16);
        for (int i = 0; i < Config.VocabSize; i++)
        {
            string piece = i switch { 0 => "<unk>", 1 => "\n<s>\n", 2 => "\n</s>\n", < 259 => $"<0x{i - 3:X2}>", _ => " w" + i };
            byte[] bytes = Encoding.UTF8.GetBytes(piece);
            w.Write(i < 259 ? 0f : -i);
            w.Write(bytes.Length);
            w.Write(bytes);
        }
    }

    /// <summary>
    /// A byte-level BPE <c>tokenizer.json</c> (Qwen2 style) for the Qwen2-shaped model: GPT-2's 256 byte symbols,
    /// a few merges, and an end-of-text special token.
    /// </summary>
    public static void WriteByteLevelTokenizerJson(string path)
    {
        // GPT-2's bytes_to_unicode: printable bytes stand for themselves, the others map to U+0100 onwards.
        var printable = Enumerable.Range('!', '~' - '!' + 1).Concat(Enumerable.Range('¡', '¬' - '¡' + 1)).Concat(Enumerable.Range('®', 'ÿ' - '®' + 1)).ToHashSet();
        int extra = 0;
        var symbols = Enumerable.Range(0, 256).Select(b => printable.Contains(b) ? ((char)b).ToString() : ((char)(256 + extra++)).ToString()).ToList();
        var vocab = symbols.Select((s, i) => (s, i)).ToDictionary(x => x.s, x => x.i);
        var merges = new List<string>();
        foreach (var (a, b) in new[] { ("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n") })
        {
            merges.Add($"{a} {b}");
            vocab[a + b] = vocab.Count;
        }
        int eot = Qwen2Config.VocabSize - 1;
        // Every field Hugging Face's tokenizers library requires, so that the runtime loads it as well as llama.cpp.
        var byteLevel = new Dictionary<string, object> { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true };
        var json = new Dictionary<string, object?>
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = new[]
            {
                new Dictionary<string, object> { ["id"] = eot, ["content"] = "<|endoftext|>", ["single_word"] = false, ["lstrip"] = false,
                    ["rstrip"] = false, ["normalized"] = false, ["special"] = true },
            },
            ["normalizer"] = null,
            ["pre_tokenizer"] = byteLevel,
            ["post_processor"] = null,
            ["decoder"] = byteLevel,
            ["model"] = new Dictionary<string, object?>
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null, ["end_of_word_suffix"] = null,
                ["fuse_unk"] = false, ["byte_fallback"] = false, ["vocab"] = vocab, ["merges"] = merges,
            },
        };
        File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(json));
    }

    /// <summary>Writes the HF folder: config.json, model.safetensors and the tokenizer (tokenizer.bin, or tokenizer.json for Qwen2).</summary>
    public static void WriteFolder(string dir, HfModelFixture model)
    {
        Directory.CreateDirectory(dir);
        if (model.Config.AttentionBias)
        {
            model.WriteFolder(dir);
            WriteByteLevelTokenizerJson(Path.Combine(dir, "tokenizer.json"));
            return;
        }
        string tokenizer = Path.Combine(Path.GetTempPath(), $"random-llama-{Guid.NewGuid():N}.bin");
        try
        {
            WriteTokenizer(tokenizer);
            model.WriteFolder(dir, tokenizer);
        }
        finally { File.Delete(tokenizer); }
    }

    static float[] Gaussian(Random rng, int n, double mean, double std)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++)
        {
            double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
            v[i] = (float)(mean + std * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return v;
    }
}
