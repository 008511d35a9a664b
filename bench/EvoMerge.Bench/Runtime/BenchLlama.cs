using EvoMerge.IO.Gguf;
using EvoMerge.Torch.Model;

namespace EvoMerge.Bench.Runtime;

/// <summary>
/// The benchmark's ~100M-parameter Llama (GPT-2-small widths, 12 layers, GQA 12/4, tied 32k vocabulary), with
/// seeded random weights: speed does not depend on the values, only on shapes and dtype.
/// </summary>
public static class BenchLlama
{
    public static LlamaConfig Config(int layers) => new LlamaConfig
    {
        VocabSize = 32000, HiddenSize = 768, IntermediateSize = 2048, NumLayers = layers, NumHeads = 12, NumKvHeads = 4,
        RmsNormEps = 1e-5f, RopeTheta = 10000, MaxPositionEmbeddings = 4096, TieWordEmbeddings = true, BosTokenId = 1, EosTokenId = 2,
    }.Validated();

    /// <summary>HF-named tensors with uniform random values of a scale that keeps activations finite.</summary>
    public static List<(string Name, long[] Shape, float[] Values)> Weights(LlamaConfig c, int seed)
    {
        var rng = new Random(seed);
        var list = new List<(string, long[], float[])>();
        void Add(string name, long[] shape, float scale, float offset = 0)
        {
            var v = new float[shape.Aggregate(1L, (a, b) => a * b)];
            for (int i = 0; i < v.Length; i++) v[i] = offset + scale * (2 * rng.NextSingle() - 1);
            list.Add((name, shape, v));
        }
        float s = 1 / MathF.Sqrt(c.HiddenSize);
        Add("model.embed_tokens.weight", [c.VocabSize, c.HiddenSize], 1);
        for (int l = 0; l < c.NumLayers; l++)
        {
            string p = $"model.layers.{l}.";
            Add(p + "input_layernorm.weight", [c.HiddenSize], 0.1f, 1);
            Add(p + "self_attn.q_proj.weight", [c.NumHeads * c.HeadDim, c.HiddenSize], s);
            Add(p + "self_attn.k_proj.weight", [c.NumKvHeads * c.HeadDim, c.HiddenSize], s);
            Add(p + "self_attn.v_proj.weight", [c.NumKvHeads * c.HeadDim, c.HiddenSize], s);
            Add(p + "self_attn.o_proj.weight", [c.HiddenSize, c.NumHeads * c.HeadDim], s);
            Add(p + "post_attention_layernorm.weight", [c.HiddenSize], 0.1f, 1);
            Add(p + "mlp.gate_proj.weight", [c.IntermediateSize, c.HiddenSize], s);
            Add(p + "mlp.up_proj.weight", [c.IntermediateSize, c.HiddenSize], s);
            Add(p + "mlp.down_proj.weight", [c.HiddenSize, c.IntermediateSize], 1 / MathF.Sqrt(c.IntermediateSize));
        }
        Add("model.norm.weight", [c.HiddenSize], 0.1f, 1);
        return list;
    }

    /// <summary>A SentencePiece-shaped vocabulary of the model's size (llama.cpp needs one to load the file).</summary>
    public static GgufVocabulary Vocabulary(int size)
    {
        var tokens = new List<string> { "<unk>", "<s>", "</s>" };
        var types = new List<GgufTokenType> { GgufTokenType.Unknown, GgufTokenType.Control, GgufTokenType.Control };
        for (int b = 0; b < 256; b++) { tokens.Add($"<0x{b:X2}>"); types.Add(GgufTokenType.Byte); }
        for (int i = tokens.Count; i < size; i++) { tokens.Add("▁t" + i); types.Add(GgufTokenType.Normal); }
        return new GgufVocabulary("llama", tokens, types, Enumerable.Range(0, size).Select(i => (float)-i).ToList(), null, 1, 2, 0);
    }

    public static void WriteGguf(string path, LlamaConfig c, List<(string Name, long[] Shape, float[] Values)> weights, GgufOutputType type)
    {
        var spec = new GgufModelSpec("llama", "bench-llama", c.MaxPositionEmbeddings, c.HiddenSize, c.NumLayers, c.IntermediateSize,
            c.NumHeads, c.NumKvHeads, c.HeadDim, c.RmsNormEps, (float)c.RopeTheta, c.VocabSize);
        LlamaGgufExport.Write(path, spec, weights.Select(w => new GgufSourceTensor(w.Name, w.Shape, d => w.Values.CopyTo(d))).ToList(),
            Vocabulary(c.VocabSize), type);
    }
}
