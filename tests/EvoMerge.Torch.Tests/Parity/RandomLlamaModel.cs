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

    /// <summary>Tensors in HF naming and PyTorch shapes, deterministic for a seed.</summary>
    public static HfModelFixture Create(int seed)
    {
        var c = Config;
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
            Matrix(p + "self_attn.q_proj.weight", c.NumHeads * c.HeadDim, c.HiddenSize, 3 * fanIn);
            Matrix(p + "self_attn.k_proj.weight", c.NumKvHeads * c.HeadDim, c.HiddenSize, 3 * fanIn);
            Matrix(p + "self_attn.v_proj.weight", c.NumKvHeads * c.HeadDim, c.HiddenSize, fanIn);
            Matrix(p + "self_attn.o_proj.weight", c.HiddenSize, c.NumHeads * c.HeadDim, fanIn);
            Norm(p + "post_attention_layernorm.weight");
            Matrix(p + "mlp.gate_proj.weight", c.IntermediateSize, c.HiddenSize, fanIn);
            Matrix(p + "mlp.up_proj.weight", c.IntermediateSize, c.HiddenSize, fanIn);
            Matrix(p + "mlp.down_proj.weight", c.HiddenSize, c.IntermediateSize, 1 / Math.Sqrt(c.IntermediateSize));
        }
        Norm("model.norm.weight");
        Matrix("lm_head.weight", c.VocabSize, c.HiddenSize, 2 * fanIn);
        return new HfModelFixture(c, list);
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

    /// <summary>Writes the HF folder: config.json, model.safetensors and tokenizer.bin.</summary>
    public static void WriteFolder(string dir, HfModelFixture model)
    {
        Directory.CreateDirectory(dir);
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
