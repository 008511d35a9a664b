using System.Text;
using System.Text.Json;
using EvoMerge.IO.Gguf;

namespace EvoMerge.Torch.Tests.Parity;

/// <summary>
/// A small Llama-architecture model with seeded random weights (GQA, untied head, head_dim ≠ 64), large enough
/// in scale that logits spread over several units, so that layout mistakes (RoPE order, transposes) show.
/// Written as a Hugging Face folder: config.json, model.safetensors (float32) and a llama2.c-format tokenizer.bin
/// whose vocabulary is SentencePiece-shaped (unk, BOS, EOS, 256 byte pieces, a few words).
/// </summary>
public sealed class RandomLlamaModel
{
    public int Hidden { get; init; } = 64;
    public int Layers { get; init; } = 2;
    public int Heads { get; init; } = 4;
    public int KvHeads { get; init; } = 2;
    public int Intermediate { get; init; } = 96;
    public int Vocab { get; init; } = 288;
    public int ContextLength { get; init; } = 128;
    public float RopeTheta { get; init; } = 10000f;
    public float RmsEps { get; init; } = 1e-5f;
    public int HeadDim => Hidden / Heads;

    public GgufModelSpec Spec(string name) =>
        new("llama", name, ContextLength, Hidden, Layers, Intermediate, Heads, KvHeads, HeadDim, RmsEps, RopeTheta, Vocab);

    /// <summary>Tensors in HF naming and PyTorch shapes, deterministic for a seed.</summary>
    public List<(string Name, long[] Shape, float[] Values)> Weights(int seed)
    {
        var rng = new Random(seed);
        var list = new List<(string, long[], float[])>();
        void Matrix(string name, int rows, int cols, double std) =>
            list.Add((name, [rows, cols], Gaussian(rng, rows * cols, 0, std)));
        void Norm(string name) => list.Add((name, [Hidden], Gaussian(rng, Hidden, 1, 0.2)));

        Matrix("model.embed_tokens.weight", Vocab, Hidden, 1.0);
        double fanIn = 1 / Math.Sqrt(Hidden);
        for (int l = 0; l < Layers; l++)
        {
            string p = $"model.layers.{l}.";
            Norm(p + "input_layernorm.weight");
            // Larger Q/K scale gives peaked attention, which makes a wrong RoPE layout visible in the logits.
            Matrix(p + "self_attn.q_proj.weight", Heads * HeadDim, Hidden, 3 * fanIn);
            Matrix(p + "self_attn.k_proj.weight", KvHeads * HeadDim, Hidden, 3 * fanIn);
            Matrix(p + "self_attn.v_proj.weight", KvHeads * HeadDim, Hidden, fanIn);
            Matrix(p + "self_attn.o_proj.weight", Hidden, Heads * HeadDim, fanIn);
            Norm(p + "post_attention_layernorm.weight");
            Matrix(p + "mlp.gate_proj.weight", Intermediate, Hidden, fanIn);
            Matrix(p + "mlp.up_proj.weight", Intermediate, Hidden, fanIn);
            Matrix(p + "mlp.down_proj.weight", Hidden, Intermediate, 1 / Math.Sqrt(Intermediate));
        }
        Norm("model.norm.weight");
        Matrix("lm_head.weight", Vocab, Hidden, 2 * fanIn);
        return list;
    }

    /// <summary>The SentencePiece-shaped vocabulary of this model, as GGUF metadata takes it.</summary>
    public GgufVocabulary Vocabulary()
    {
        var tokens = new List<string> { "<unk>", "<s>", "</s>" };
        var types = new List<GgufTokenType> { GgufTokenType.Unknown, GgufTokenType.Control, GgufTokenType.Control };
        for (int b = 0; b < 256; b++) { tokens.Add($"<0x{b:X2}>"); types.Add(GgufTokenType.Byte); }
        for (int i = tokens.Count; i < Vocab; i++) { tokens.Add("▁w" + i); types.Add(GgufTokenType.Normal); }
        var scores = Enumerable.Range(0, Vocab).Select(i => i < 259 ? 0f : -i).ToList();
        return new GgufVocabulary("llama", tokens, types, scores, null, 1, 2, 0);
    }

    /// <summary>Writes config.json and model.safetensors (float32) into <paramref name="dir"/>.</summary>
    public void WriteHfFolder(string dir, IReadOnlyList<(string Name, long[] Shape, float[] Values)> weights)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.json"), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["architectures"] = new[] { "LlamaForCausalLM" },
            ["model_type"] = "llama",
            ["hidden_size"] = Hidden,
            ["intermediate_size"] = Intermediate,
            ["num_hidden_layers"] = Layers,
            ["num_attention_heads"] = Heads,
            ["num_key_value_heads"] = KvHeads,
            ["vocab_size"] = Vocab,
            ["max_position_embeddings"] = ContextLength,
            ["rms_norm_eps"] = RmsEps,
            ["rope_theta"] = RopeTheta,
            ["tie_word_embeddings"] = false,
            ["bos_token_id"] = 1,
            ["eos_token_id"] = 2,
            ["torch_dtype"] = "float32",
        }));
        WriteSafetensors(Path.Combine(dir, "model.safetensors"), weights);
    }

    // Minimal float32 safetensors writer for the fixture (8-byte header length, JSON header, raw data).
    static void WriteSafetensors(string path, IReadOnlyList<(string Name, long[] Shape, float[] Values)> weights)
    {
        var header = new Dictionary<string, object>();
        long offset = 0;
        foreach (var (name, shape, values) in weights)
        {
            header[name] = new { dtype = "F32", shape, data_offsets = new[] { offset, offset + values.Length * 4L } };
            offset += values.Length * 4L;
        }
        byte[] json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        int padded = (json.Length + 7) / 8 * 8;
        using var w = new BinaryWriter(File.Create(path));
        w.Write((ulong)padded);
        w.Write(json);
        for (int i = json.Length; i < padded; i++) w.Write((byte)' ');
        foreach (var (_, _, values) in weights)
            foreach (float v in values) w.Write(v);
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
