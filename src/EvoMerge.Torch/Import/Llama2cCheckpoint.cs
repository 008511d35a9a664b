using System.Buffers.Binary;
using System.Runtime.InteropServices;
using EvoMerge.Torch.Model;
using EvoMerge.IO;

namespace EvoMerge.Torch.Import;

/// <summary>
/// Reads karpathy's llama2.c checkpoint (legacy version 0: a header of seven int32, then float32 arrays) and
/// names its tensors as Hugging Face Llama does. llama2.c's RoPE rotates adjacent pairs of dimensions
/// (interleaved) where Hugging Face rotates halves, so q/k rows are permuted exactly as transformers'
/// <c>convert_llama_weights_to_hf.py</c> does; the forward is then identical.
/// </summary>
public sealed class Llama2cCheckpoint
{
    public required LlamaConfig Config { get; init; }
    /// <summary>Hugging Face name → (shape, values), in file order.</summary>
    public required IReadOnlyList<(string Name, long[] Shape, float[] Values)> Tensors { get; init; }

    public static Llama2cCheckpoint Read(string path)
    {
        byte[] bytes = InputFile.ReadAllBytes(path, Array.MaxLength, "llama2.c checkpoint");
        if (bytes.Length < 28) throw new EvoMergeException($"{path}: too short for a llama2.c header (7 int32)");
        int H(int i) => BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4 * i));
        int dim = H(0), hidden = H(1), layers = H(2), heads = H(3), kvHeads = H(4), vocab = H(5), seqLen = H(6);
        if (dim == 0x616b3432) throw new EvoMergeException($"{path}: a llama2.c version 1+ checkpoint ('ak42' magic); export it with --version 0 (legacy)");
        bool tied = vocab > 0;   // llama2.c's convention: a negative vocab size means a separate classifier follows
        vocab = Math.Abs(vocab);
        if (dim <= 0 || hidden <= 0 || layers <= 0 || layers > SanityBounds.MaxLayers || heads <= 0 || kvHeads <= 0 || seqLen <= 0 || dim % heads != 0 || heads % kvHeads != 0)
            throw new EvoMergeException($"{path}: header (dim={dim}, hidden_dim={hidden}, n_layers={layers}, n_heads={heads}, n_kv_heads={kvHeads}, vocab_size={vocab}, seq_len={seqLen}) is not a llama2.c model");
        var config = new LlamaConfig
        {
            VocabSize = vocab, HiddenSize = dim, IntermediateSize = hidden, NumLayers = layers, NumHeads = heads,
            NumKvHeads = kvHeads, RmsNormEps = 1e-5f, RopeTheta = 10000, TieWordEmbeddings = tied,
            MaxPositionEmbeddings = seqLen, BosTokenId = 1, EosTokenId = 2,
        }.Validated(path);
        int headDim = dim / heads, kvDim = kvHeads * headDim;

        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("llama2.c checkpoints are little-endian");
        float[] floats = MemoryMarshal.Cast<byte, float>(bytes.AsSpan(28)).ToArray();
        long expected = (long)vocab * dim + layers * (2L * dim + (long)dim * dim * 2 + 2L * kvDim * dim + 3L * hidden * dim)
            + dim + (long)seqLen * headDim + (tied ? 0 : (long)vocab * dim);
        if (floats.Length < expected)
            throw new EvoMergeException($"{path}: {floats.Length} float32 values after the header, the header implies {expected}");

        int offset = 0;
        float[] Take(long count)
        {
            var a = floats.AsSpan(offset, (int)count).ToArray();
            offset += (int)count;
            return a;
        }
        var perLayer = new Dictionary<string, float[][]>();
        void PerLayer(string name, long rowsTimesCols) =>
            perLayer[name] = Enumerable.Range(0, layers).Select(_ => Take(rowsTimesCols)).ToArray();

        var embed = Take((long)vocab * dim);
        PerLayer("rms_att", dim);
        PerLayer("wq", (long)dim * dim);
        PerLayer("wk", (long)kvDim * dim);
        PerLayer("wv", (long)kvDim * dim);
        PerLayer("wo", (long)dim * dim);
        PerLayer("rms_ffn", dim);
        PerLayer("w1", (long)hidden * dim);
        PerLayer("w2", (long)dim * hidden);
        PerLayer("w3", (long)hidden * dim);
        var finalNorm = Take(dim);
        offset += seqLen * headDim;   // freq_cis_real and freq_cis_imag: precomputed RoPE tables, recomputed at run time
        var classifier = tied ? null : Take((long)vocab * dim);

        var tensors = new List<(string, long[], float[])> { ("model.embed_tokens.weight", [vocab, dim], embed) };
        for (int l = 0; l < layers; l++)
        {
            string p = $"model.layers.{l}.";
            tensors.Add((p + "input_layernorm.weight", [dim], perLayer["rms_att"][l]));
            tensors.Add((p + "self_attn.q_proj.weight", [dim, dim], InterleavedToHalves(perLayer["wq"][l], heads, headDim, dim)));
            tensors.Add((p + "self_attn.k_proj.weight", [kvDim, dim], InterleavedToHalves(perLayer["wk"][l], kvHeads, headDim, dim)));
            tensors.Add((p + "self_attn.v_proj.weight", [kvDim, dim], perLayer["wv"][l]));
            tensors.Add((p + "self_attn.o_proj.weight", [dim, dim], perLayer["wo"][l]));
            tensors.Add((p + "post_attention_layernorm.weight", [dim], perLayer["rms_ffn"][l]));
            tensors.Add((p + "mlp.gate_proj.weight", [hidden, dim], perLayer["w1"][l]));
            tensors.Add((p + "mlp.down_proj.weight", [dim, hidden], perLayer["w2"][l]));
            tensors.Add((p + "mlp.up_proj.weight", [hidden, dim], perLayer["w3"][l]));
        }
        tensors.Add(("model.norm.weight", [dim], finalNorm));
        if (classifier != null) tensors.Add(("lm_head.weight", [vocab, dim], classifier));
        return new Llama2cCheckpoint { Config = config, Tensors = tensors };
    }

    /// <summary>
    /// Reorders the output rows of a q or k projection from llama2.c's interleaved RoPE pairs (2i, 2i+1) to
    /// Hugging Face's halves (i, i + d/2): within each head, row 2i goes to i and row 2i+1 to i + d/2.
    /// </summary>
    static float[] InterleavedToHalves(float[] w, int heads, int headDim, int cols)
    {
        var result = new float[w.Length];
        int half = headDim / 2;
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < half; i++)
                for (int pair = 0; pair < 2; pair++)
                {
                    int from = h * headDim + 2 * i + pair, to = h * headDim + pair * half + i;
                    Array.Copy(w, (long)from * cols, result, (long)to * cols, cols);
                }
        return result;
    }
}
