using EvoMerge.IO.Gguf;

namespace EvoMerge.Tests.Gguf;

public class LlamaGgufExportTests
{
    [Theory]
    [InlineData("model.embed_tokens.weight", "token_embd.weight")]
    [InlineData("model.norm.weight", "output_norm.weight")]
    [InlineData("lm_head.weight", "output.weight")]
    [InlineData("model.layers.0.self_attn.q_proj.weight", "blk.0.attn_q.weight")]
    [InlineData("model.layers.11.self_attn.k_proj.bias", "blk.11.attn_k.bias")]
    [InlineData("model.layers.3.self_attn.o_proj.weight", "blk.3.attn_output.weight")]
    [InlineData("model.layers.2.mlp.down_proj.weight", "blk.2.ffn_down.weight")]
    [InlineData("model.layers.2.input_layernorm.weight", "blk.2.attn_norm.weight")]
    [InlineData("model.layers.2.post_attention_layernorm.weight", "blk.2.ffn_norm.weight")]
    [InlineData("model.layers.2.mlp.unknown.weight", null)]
    [InlineData("vision_tower.weight", null)]
    public void MapsHuggingFaceNamesToLlamaCppNames(string hf, string? gguf) => Assert.Equal(gguf, LlamaGgufNames.ToGguf(hf));

    [Fact]
    public void PermutationInterleavesTheRotaryHalvesOfEachHead()
    {
        // 2 heads of dim 4, one column: HF rows per head [a0 a1 | b0 b1] → llama.cpp [a0 b0 a1 b1].
        float[] rows = [0, 1, 2, 3, 10, 11, 12, 13];
        RopePermutation.HfToInterleaved(rows, heads: 2, columns: 1);
        Assert.Equal(new float[] { 0, 2, 1, 3, 10, 12, 11, 13 }, rows);
    }

    [Fact]
    public void InterleavedRopeOnPermutedRowsEqualsRotateHalfRopeOnHfRows()
    {
        // The reason for the permutation: q·R under both RoPE conventions must give the same attention scores.
        const int headDim = 8, pos = 5;
        var q = Enumerable.Range(0, headDim).Select(i => MathF.Sin(i + 1)).ToArray();
        var k = Enumerable.Range(0, headDim).Select(i => MathF.Cos(3 * i + 2)).ToArray();
        double Dot(float[] a, float[] b) => a.Zip(b, (x, y) => (double)x * y).Sum();
        double hf = Dot(RotateHalf(q, pos), RotateHalf(k, 2));
        float[] qp = (float[])q.Clone(), kp = (float[])k.Clone();
        RopePermutation.HfToInterleaved(qp, 1, 1);
        RopePermutation.HfToInterleaved(kp, 1, 1);
        double gguf = Dot(Interleaved(qp, pos), Interleaved(kp, 2));
        Assert.Equal(hf, gguf, 5);
    }

    static float Theta(int i, int dim, int pos) => pos * MathF.Pow(10000f, -2f * i / dim);

    static float[] RotateHalf(float[] x, int pos)
    {
        int h = x.Length / 2;
        var y = new float[x.Length];
        for (int i = 0; i < h; i++)
        {
            float c = MathF.Cos(Theta(i, x.Length, pos)), s = MathF.Sin(Theta(i, x.Length, pos));
            y[i] = x[i] * c - x[i + h] * s;
            y[i + h] = x[i + h] * c + x[i] * s;
        }
        return y;
    }

    static float[] Interleaved(float[] x, int pos)
    {
        var y = new float[x.Length];
        for (int i = 0; i < x.Length / 2; i++)
        {
            float c = MathF.Cos(Theta(i, x.Length, pos)), s = MathF.Sin(Theta(i, x.Length, pos));
            y[2 * i] = x[2 * i] * c - x[2 * i + 1] * s;
            y[2 * i + 1] = x[2 * i + 1] * c + x[2 * i] * s;
        }
        return y;
    }

    [Fact]
    public void KeepsNormsF32AndFallsBackToF16ForRowsQ8_0CannotHold()
    {
        var spec = new GgufModelSpec("llama", "t", 64, 64, 1, 172, 8, 4, 8, 1e-5f, 10000f, 512);
        var plan = LlamaGgufExport.Plan(spec,
        [
            new("model.layers.0.input_layernorm.weight", [64], _ => { }),
            new("model.layers.0.mlp.up_proj.weight", [172, 64], _ => { }),
            new("model.layers.0.mlp.down_proj.weight", [64, 172], _ => { }),
            new("model.layers.0.self_attn.rotary_emb.inv_freq", [4], _ => { }),
        ], GgufOutputType.Q8_0);
        Assert.Equal([GgufTensorType.F32, GgufTensorType.Q8_0, GgufTensorType.F16], plan.Select(p => p.Type));
    }

    [Fact]
    public void UnknownTensorNamesAreAClearError()
    {
        var spec = new GgufModelSpec("llama", "t", 64, 64, 1, 172, 8, 4, 8, 1e-5f, 10000f, 512);
        var e = Assert.Throws<EvoMergeException>(() => LlamaGgufExport.Plan(spec, [new("model.vision.proj.weight", [2, 2], _ => { })], GgufOutputType.F32));
        Assert.Contains("model.vision.proj.weight", e.Message);
    }

    [Fact]
    public void MetadataCarriesTheKeysLlamaCppReadsAndPadsTheVocabulary()
    {
        var spec = new GgufModelSpec("llama", "tiny", 256, 64, 2, 172, 8, 4, 8, 1e-5f, 10000f, 5);
        var vocab = new GgufVocabulary("llama", ["<unk>", "<s>", "</s>"],
            [GgufTokenType.Unknown, GgufTokenType.Control, GgufTokenType.Control], [0f, 0f, 0f], null, 1, 2, 0);
        var m = LlamaGgufExport.Metadata(spec, vocab, GgufOutputType.Q8_0, [new GgufTensor("output.weight", [5, 64], GgufTensorType.Q8_0, _ => { })]);
        object Value(string key) => m.Entries.Single(e => e.Key == key).Value;
        Assert.Equal("llama", Value("general.architecture"));
        Assert.Equal(7u, Value("general.file_type"));
        Assert.Equal(2u, Value("llama.block_count"));
        Assert.Equal(4u, Value("llama.attention.head_count_kv"));
        Assert.Equal(1e-5f, Value("llama.attention.layer_norm_rms_epsilon"));
        Assert.Equal(new[] { "<unk>", "<s>", "</s>", "[PAD3]", "[PAD4]" }, (IReadOnlyList<string>)Value("tokenizer.ggml.tokens"));
        Assert.Equal(1u, Value("tokenizer.ggml.bos_token_id"));
        Assert.False(m.Contains("llama.attention.key_length"));
        // The GGUF specification asks for general.quantization_version whenever a tensor is quantized, and only then.
        Assert.Equal(2u, Value("general.quantization_version"));
        Assert.False(LlamaGgufExport.Metadata(spec, vocab, GgufOutputType.Q8_0, [new GgufTensor("output.weight", [5, 63], GgufTensorType.F16, _ => { })])
            .Contains("general.quantization_version"));
    }
}

public class GgufRopeScalingTests
{
    [Fact]
    public void Llama3FactorsKeepHighFrequenciesDivideLowOnesAndInterpolateBetween()
    {
        // head_dim 8, theta 500000: wavelengths 2π·500000^(i/4) = 6.3, 167, 4443, 118143; original context 8192,
        // low/high freq factors 1/4 → band [2048, 8192]. Middle one by hand: smooth = (8192/4442.9 − 1)/3 = 0.281281,
        // divisor = 1 / ((1 − 0.281281)/8 + 0.281281) = 2.69454.
        var scaling = GgufRopeScaling.Parse("""{"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":8192}""", "config.json")!;
        var f = scaling.FrequencyFactors(8, 500000)!;
        Assert.Equal(1f, f[0]);
        Assert.Equal(1f, f[1]);
        Assert.InRange(f[2], 2.6944, 2.6947);
        Assert.Equal(8f, f[3]);
    }

    [Fact]
    public void LinearScalingIsMetadataAndUnknownKindsAreRefused()
    {
        var m = new GgufMetadata();
        GgufRopeScaling.Parse("""{"type":"linear","factor":2.0}""", "c.json")!.AddTo(m, "llama");
        Assert.Equal(["llama.rope.scaling.type", "llama.rope.scaling.factor"], m.Entries.Select(e => e.Key));
        Assert.Null(GgufRopeScaling.Parse("""{"rope_type":"default"}""", "c.json"));
        var e = Assert.Throws<EvoMergeException>(() => GgufRopeScaling.Parse("""{"rope_type":"yarn","factor":4}""", "c.json"));
        Assert.Contains("rope_scaling.rope_type", e.Message);
    }
}
