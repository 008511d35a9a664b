using EvoMerge.IO;
using EvoMerge.IO.Gguf;
using EvoMerge.TestSupport;
using EvoMerge.Tokenization;
using EvoMerge.Torch.Import;
using LLama;
using LLama.Native;
using Xunit.Abstractions;

namespace EvoMerge.Torch.Tests.Parity;

/// <summary>
/// The k-quant and Q4_0 exports against llama.cpp itself: ggml decodes EvoMerge's blocks to the same values
/// EvoMerge decodes them to; llama.cpp's quantize picks the same type for every tensor; llama.cpp loads and runs
/// each file, and the perplexity each adds falls in the published order.
/// </summary>
public sealed class KQuantLlamaCppTests(ITestOutputHelper output) : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("kquant-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    static readonly GgufTensorType[] BlockTypes =
        [GgufTensorType.Q8_0, GgufTensorType.Q6_K, GgufTensorType.Q5_K, GgufTensorType.Q5_1, GgufTensorType.Q5_0, GgufTensorType.Q4_K, GgufTensorType.Q4_0];

    static float[] Gaussian(int n, int seed)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, n).Select(_ => (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble())))];
    }

    static double Rms(float[] a, float[] b) => Math.Sqrt(a.Zip(b, (x, y) => (double)(x - y) * (x - y)).Average());

    [Fact]
    public void GgmlDecodesEvoMergesBlocksToTheValuesEvoMergeDecodesAndTheErrorMatchesGgmlsQuantizer()
    {
        // Rows of 512 with a spread of magnitudes (block scales from 0.01 to 10), one all-zero row.
        var x = Gaussian(8 * 512, 11);
        for (int i = 0; i < x.Length; i++) x[i] *= i < 512 ? 0 : MathF.Pow(10, (i / 256 % 4) - 2);
        foreach (var type in BlockTypes)
        {
            var bytes = new byte[GgufEncoding.ByteCount(type, x.Length)];
            GgufEncoding.Encode(type, x, bytes);
            var ours = new float[x.Length];
            GgufEncoding.Decode(type, bytes, ours);
            Assert.Equal(Ggml.Dequantize(type, bytes, x.Length), ours);

            var theirs = Ggml.Quantize(type, x, 512);
            double ourError = Rms(x, ours), ggmlError = Rms(x, Ggml.Dequantize(type, theirs, x.Length));
            output.WriteLine($"{type}: rms error EvoMerge {ourError:G4}, ggml {ggmlError:G4} ({ourError / ggmlError:F3}×)");
            // The 32-blocks are ggml's reference quantizers, byte for byte; the k-quants search scales their own way.
            if (type is GgufTensorType.Q8_0 or GgufTensorType.Q4_0 or GgufTensorType.Q5_0 or GgufTensorType.Q5_1) Assert.Equal(theirs, bytes);
            else Assert.InRange(ourError / ggmlError, 0.5, 1.05);
        }
    }

    static readonly (GgufOutputType Ours, LLamaFtype Theirs)[] Types =
    [
        (GgufOutputType.Q8_0, LLamaFtype.MOSTLY_Q8_0), (GgufOutputType.Q6_K, LLamaFtype.MOSTLY_Q6_K),
        (GgufOutputType.Q5_K_M, LLamaFtype.MOSTLY_Q5_K_M), (GgufOutputType.Q4_K_M, LLamaFtype.MOSTLY_Q4_K_M),
        (GgufOutputType.Q4_0, LLamaFtype.MOSTLY_Q4_0),
    ];

    string ExportAll(string hf, string name, bool includeQ4_0 = true)
    {
        GgufLlamaCppParityTests.Export(hf, Path.Combine(dir, $"{name}-f32.gguf"), GgufOutputType.F32);
        foreach (var (type, _) in Types.Where(t => includeQ4_0 || t.Ours != GgufOutputType.Q4_0))
        {
            string path = GgufLlamaCppParityTests.Export(hf, Path.Combine(dir, $"{name}-{type.CliName()}.gguf"), type);
            var (_, values) = Ggml.ReadFile(path, "general.quantization_version", "general.file_type");
            Assert.Equal(2u, values["general.quantization_version"]);
            Assert.Equal(type.FileType(), values["general.file_type"]);
        }
        return Path.Combine(dir, name);
    }

    void AssertSameMixAsLlamaCppQuantize(string prefix, bool includeQ4_0)
    {
        foreach (var (ours, theirs) in Types.Where(t => includeQ4_0 || t.Ours is not (GgufOutputType.Q4_0 or GgufOutputType.Q8_0)))
        {
            string quantized = $"{prefix}-llamacpp-{ours.CliName()}.gguf";
            Assert.True(LLamaQuantizer.Quantize($"{prefix}-f32.gguf", quantized, theirs, nthread: 1, quantizeOutputTensor: true));
            var expected = Ggml.ReadFile(quantized).Types;
            var actual = Ggml.ReadFile($"{prefix}-{ours.CliName()}.gguf").Types;
            Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
            var differing = expected.Where(e => e.Value != actual[e.Key]).Select(e => $"{e.Key} is {actual[e.Key]}, llama.cpp quantize makes it {e.Value}");
            Assert.True(!differing.Any(), $"{ours}: {string.Join("; ", differing)}");
            output.WriteLine($"{ours}: {string.Join(", ", actual.GroupBy(t => t.Value).Select(g => $"{g.Count()} {g.Key}"))}");
        }
    }

    /// <summary>Four 200-token texts sampled from the float32 model itself (see <see cref="LlamaCpp.Sample"/>).</summary>
    static List<int[]> SampledTexts(string f32Gguf) =>
        [.. Enumerable.Range(0, 4).Select(seed => new[] { 1 }.Concat(LlamaCpp.Sample(f32Gguf, [1], 199, seed)).ToArray())];

    [Fact]
    public void RandomLlamaWithWholeSuperBlocksMatchesLlamaCppQuantizesMixAndLosesPerplexityInThePublishedOrder()
    {
        var model = RandomLlamaModel.Create(seed: 2, config: RandomLlamaModel.WideConfig, attentionScale: 1);
        string hf = Path.Combine(dir, "wide");
        RandomLlamaModel.WriteFolder(hf, model);
        string prefix = ExportAll(hf, "wide");
        AssertSameMixAsLlamaCppQuantize(prefix, includeQ4_0: true);

        var texts = SampledTexts($"{prefix}-f32.gguf");
        double f32 = LlamaCpp.Perplexity($"{prefix}-f32.gguf", texts);
        var added = Types.ToDictionary(t => t.Ours, t => LlamaCpp.Perplexity($"{prefix}-{t.Ours.CliName()}.gguf", texts) - f32);
        double llamaCppQ4 = LlamaCpp.Perplexity($"{prefix}-llamacpp-q4_k_m.gguf", texts) - f32;
        output.WriteLine($"perplexity f32 {f32:F3}; added: {string.Join(", ", added.Select(a => $"{a.Key} {a.Value:+0.000;-0.000}"))}; llama.cpp's own Q4_K_M {llamaCppQ4:+0.000}");
        Assert.True(added[GgufOutputType.Q8_0] < added[GgufOutputType.Q6_K]);
        Assert.True(added[GgufOutputType.Q6_K] < added[GgufOutputType.Q5_K_M]);
        Assert.True(added[GgufOutputType.Q5_K_M] < added[GgufOutputType.Q4_K_M]);
        // As good as llama.cpp's own quantizer on the same weights (a quarter of slack for sampling noise).
        Assert.True(added[GgufOutputType.Q4_K_M] < 1.25 * llamaCppQ4, $"EvoMerge Q4_K_M adds {added[GgufOutputType.Q4_K_M]:F3}, llama.cpp's {llamaCppQ4:F3}");
    }

    [Fact]
    public void Q6_KLogitsOfLlamaCppMatchEvoMergesRuntimeOnEvoMergesOwnDequantisation()
    {
        // Two layers: deeper random models amplify llama.cpp's 8-bit activation rounding past what a check can read.
        var model = RandomLlamaModel.Create(seed: 3, config: RandomLlamaModel.WideConfig with { NumLayers = 2 }, attentionScale: 1);
        string hf = Path.Combine(dir, "wide"), dequantized = Path.Combine(dir, "wide-dq");
        RandomLlamaModel.WriteFolder(hf, model);
        string gguf = GgufLlamaCppParityTests.Export(hf, Path.Combine(dir, "wide-q6_k.gguf"), GgufOutputType.Q6_K);
        Dequantized.WriteFolder(hf, dequantized, GgufOutputType.Q6_K);
        var prompts = GgufLlamaCppParityTests.Prompts(model.Config.VocabSize);
        var cmp = LogitComparison.Of(RuntimeLogits.Of(dequantized, prompts), LlamaCpp.Logits(gguf, prompts), model.Config.VocabSize);
        var unquantized = LogitComparison.Of(RuntimeLogits.Of(hf, prompts), LlamaCpp.Logits(gguf, prompts), model.Config.VocabSize);
        output.WriteLine($"Q6_K: llama.cpp vs EvoMerge runtime on the float32 weights: {unquantized}");
        output.WriteLine($"Q6_K: llama.cpp vs EvoMerge runtime on EvoMerge's dequantisation: {cmp}");
        // llama.cpp rounds activations to 8 bits per 256 for k-quant dot products, which alone moves these logits
        // by several percent; still its Q6_K logits must sit much nearer EvoMerge's dequantisation than the
        // unquantized weights (measured 8.5 % vs 19 %). A misplaced scale or nibble is far from both.
        Assert.True(cmp.Relative < 0.6 * unquantized.Relative, $"{cmp} vs unquantized {unquantized}");
        Assert.True(cmp.ArgmaxAgreement >= 0.95, cmp.ToString());
    }

    const string Checkpoint = "models/stories260k/stories260K.bin";

    [SharedDataFact(Checkpoint)]
    public void Stories260kLoadsInEveryTypeWithLlamaCppQuantizesFallbacksAndQ6_KGreedyMatchesEvoMerge()
    {
        string hf = Path.Combine(dir, "stories");
        Llama2cImporter.Import(SharedData.PathOf(Checkpoint), SharedData.PathOf("models/stories260k/tok512.bin"), hf);
        // llama.cpp's quantize refuses Q4_0 for the 172-long ffn_down rows; EvoMerge stores them as F16 instead.
        string prefix = ExportAll(hf, "stories");
        AssertSameMixAsLlamaCppQuantize(prefix, includeQ4_0: false);

        var tokenizer = Llama2cTokenizer.Load(Path.Combine(hf, TokenizerFactory.Llama2cFileName), 512);
        var story = tokenizer.Encode(Runtime.Stories260kGoldenTests.Published, addBos: true).ToArray();
        double f32 = LlamaCpp.Perplexity($"{prefix}-f32.gguf", [story]);
        var ppl = Types.ToDictionary(t => t.Ours, t => LlamaCpp.Perplexity($"{prefix}-{t.Ours.CliName()}.gguf", [story]));
        output.WriteLine($"stories260K perplexity on the published story: f32 {f32:F4}, {string.Join(", ", ppl.Select(p => $"{p.Key} {p.Value:F4}"))}");
        Assert.All(ppl.Values, p => Assert.InRange(p, 0.5 * f32, 2 * f32));

        string dequantized = Path.Combine(dir, "stories-dq");
        Dequantized.WriteFolder(hf, dequantized, GgufOutputType.Q6_K);
        var evo = RuntimeGreedy(dequantized, 80);
        var llama = LlamaCpp.Greedy($"{prefix}-q6_k.gguf", [1], 80);
        output.WriteLine(tokenizer.Decode(llama));
        Assert.Equal(evo, llama);
    }

    static List<int> RuntimeGreedy(string folder, int count)
    {
        using var loaded = EvoMerge.Torch.Runtime.LoadedModel.Load(folder);
        return [.. EvoMerge.Torch.Generation.TokenGenerator.Generate(loaded.Model, [[1]], new EvoMerge.Torch.Generation.SamplingOptions(MaxNewTokens: count), eosId: null)[0]];
    }
}

/// <summary>A model folder whose weights are replaced by what a GGUF export of a type stores, decoded by EvoMerge.</summary>
static class Dequantized
{
    public static void WriteFolder(string source, string destination, GgufOutputType type)
    {
        using var model = ModelFolder.Open(source);
        Directory.CreateDirectory(destination);
        foreach (string file in Directory.GetFiles(source).Where(f => !f.EndsWith(".safetensors", StringComparison.Ordinal)))
            File.Copy(file, Path.Combine(destination, Path.GetFileName(file)));
        var names = model.Weights.Tensors.ToDictionary(t => t.Name, t => LlamaGgufNames.ToGguf(t.Name)!);
        bool hasOutput = names.ContainsValue("output.weight");
        using var writer = SafetensorsWriter.Create(destination, model.Weights.Tensors.Select(t => new TensorSpec(t.Name, DType.F32, t.Shape)));
        foreach (var t in model.Weights.Tensors)
        {
            var values = new float[t.Shape.Aggregate(1L, (a, b) => a * b)];
            model.Weights.ReadFloat32(t.Name, values);
            var storage = GgufTypeMix.Choose(type, names[t.Name], t.Shape, model.LayerCount, hasOutput);
            var bytes = new byte[GgufEncoding.ByteCount(storage, values.Length)];
            GgufEncoding.Encode(storage, values, bytes);
            GgufEncoding.Decode(storage, bytes, values);
            writer.WriteFloat32(t.Name, values);
        }
        writer.Complete();
    }
}
