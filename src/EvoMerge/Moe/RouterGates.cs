using EvoMerge.IO;
using EvoMerge.Tokenization;
using MathNet.Numerics.LinearAlgebra;

namespace EvoMerge.Moe;

/// <summary>
/// The router (gate) rows of every layer, by mergekit-moe's rules (<c>mergekit/moe/router.py</c>, read for
/// behaviour). Each prompt is tokenised with BOS first. For an expert, a prompt list gives one vector per layer:
/// <list type="bullet">
/// <item><c>hidden</c> / <c>hidden_avg</c>: the base model's residual stream entering the layer, at the last token
/// or averaged over the tokens, then averaged over the prompts;</item>
/// <item><c>cheap_embed</c>: the token embeddings summed over every token of every prompt, normalised, the same for
/// every layer.</item>
/// </list>
/// The row is positive − negative (when there are negative prompts), divided by its L2 norm (at least 1e-8).
/// <c>random</c> rows are standard normal; <c>uniform_random</c> ones uniform on ±1/√hidden. Arithmetic is float64.
/// </summary>
public static class RouterGates
{
    /// <summary>Above this condition number a layer's rows are reported as degenerate (mergekit's threshold).</summary>
    public const double DegenerateCondition = 5.0;

    /// <param name="hiddenStates">Opens the base model's forward; called only for the hidden modes.</param>
    /// <returns>Per layer, the [experts × hidden] router matrix, row-major.</returns>
    public static float[][] Compute(MoeConfig config, ModelFolder baseModel, int layers, int hidden, Func<IHiddenStateSource>? hiddenStates, int seed)
    {
        int experts = config.Experts.Count;
        switch (config.GateMode)
        {
            case GateMode.Random:
            case GateMode.UniformRandom:
                return RandomRows(config.GateMode, layers, experts, hidden, seed);
            case GateMode.CheapEmbed:
            {
                var tokenizer = Tokenizer(baseModel);
                var embeddings = EmbeddingRows.Open(baseModel, hidden);
                return FromPrompts(config.Experts, layers, hidden, prompts =>
                {
                    var sum = new double[hidden];
                    foreach (string prompt in prompts) embeddings.AddRows(Tokens(tokenizer, prompt), sum);
                    Normalise(sum);
                    return Enumerable.Repeat(sum, layers).ToArray();
                });
            }
            default:
            {
                var tokenizer = Tokenizer(baseModel);
                if (hiddenStates == null) throw new InvalidOperationException("gate_mode hidden needs a hidden-state source");
                using var source = hiddenStates();
                var reduction = config.GateMode == GateMode.HiddenAvg ? TokenReduction.Mean : TokenReduction.Last;
                return FromPrompts(config.Experts, layers, hidden, prompts =>
                {
                    var mean = new double[layers][];
                    for (int l = 0; l < layers; l++) mean[l] = new double[hidden];
                    foreach (string prompt in prompts)
                    {
                        var states = source.LayerInputs(Tokens(tokenizer, prompt), reduction);
                        if (states.Length != layers || states.Any(s => s.Length != hidden))
                            throw new InvalidOperationException($"hidden-state source returned {states.Length} layers; expected {layers} × {hidden}");
                        for (int l = 0; l < layers; l++)
                            for (int i = 0; i < hidden; i++) mean[l][i] += states[l][i] / (double)prompts.Count;
                    }
                    return mean;
                });
            }
        }
    }

    /// <summary>
    /// The rule shared by the prompt modes: <paramref name="promptSet"/> turns a prompt list into one vector per
    /// layer; the row is positive minus negative, L2-normalised.
    /// </summary>
    public static float[][] FromPrompts(IReadOnlyList<MoeExpert> experts, int layers, int hidden, Func<IReadOnlyList<string>, double[][]> promptSet)
    {
        var gates = new float[layers][];
        for (int l = 0; l < layers; l++) gates[l] = new float[experts.Count * hidden];
        for (int e = 0; e < experts.Count; e++)
        {
            var positive = promptSet(experts[e].PositivePrompts);
            var negative = experts[e].NegativePrompts.Count > 0 ? promptSet(experts[e].NegativePrompts) : null;
            for (int l = 0; l < layers; l++)
            {
                var row = (double[])positive[l].Clone();
                if (negative != null)
                    for (int i = 0; i < hidden; i++) row[i] -= negative[l][i];
                Normalise(row);
                for (int i = 0; i < hidden; i++) gates[l][e * hidden + i] = (float)row[i];
            }
        }
        return gates;
    }

    /// <summary>Layers whose router rows are nearly linearly dependent (condition number above <see cref="DegenerateCondition"/>): their experts are hard to tell apart.</summary>
    public static IReadOnlyList<int> DegenerateLayers(float[][] gates, int experts)
    {
        var result = new List<int>();
        for (int l = 0; l < gates.Length; l++)
        {
            int hidden = gates[l].Length / experts;
            var m = Matrix<double>.Build.Dense(experts, hidden, (r, c) => gates[l][r * hidden + c]);
            var s = m.Svd(computeVectors: false).S;
            double max = s.Maximum(), min = s.Minimum();
            // More experts than hidden dimensions leaves rows dependent by construction: infinite condition.
            if (experts > hidden || min <= 0 || max / min > DegenerateCondition) result.Add(l);
        }
        return result;
    }

    static float[][] RandomRows(GateMode mode, int layers, int experts, int hidden, int seed)
    {
        var rng = new Random(seed);
        double scale = 1 / Math.Sqrt(hidden);
        var gates = new float[layers][];
        for (int l = 0; l < layers; l++)
        {
            gates[l] = new float[experts * hidden];
            for (int i = 0; i < gates[l].Length; i++)
                gates[l][i] = (float)(mode == GateMode.Random ? Gaussian(rng) : (2 * rng.NextDouble() - 1) * scale);
        }
        return gates;
    }

    /// <summary>One standard normal draw (Box–Muller).</summary>
    public static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    static void Normalise(double[] v)
    {
        double norm = Math.Max(Math.Sqrt(v.Sum(x => x * x)), 1e-8);
        for (int i = 0; i < v.Length; i++) v[i] /= norm;
    }

    static ITokenizer Tokenizer(ModelFolder baseModel)
    {
        string dir = Directory.Exists(baseModel.Path) ? baseModel.Path : Path.GetDirectoryName(baseModel.Path)!;
        return TokenizerFactory.FromFolder(dir, baseModel.Config?.VocabSize ?? 0);
    }

    /// <summary>A prompt's token ids with BOS first, as mergekit tokenises them (<c>bos_token + prompt</c>).</summary>
    public static IReadOnlyList<int> Tokens(ITokenizer tokenizer, string prompt) => tokenizer.Encode(prompt, addBos: tokenizer.BosId != null);

    /// <summary>Rows of the base's token-embedding matrix, read one at a time from the memory-mapped file.</summary>
    sealed class EmbeddingRows(SafetensorsModel weights, TensorInfo info, int hidden)
    {
        public const string Name = "model.embed_tokens.weight";

        public static EmbeddingRows Open(ModelFolder model, int hidden)
        {
            if (!model.Weights.TryGetInfo(Name, out var info))
                throw new EvoMergeException($"{model.Path}: no tensor '{Name}'; gate_mode cheap_embed reads the base's token embeddings");
            if (info.Shape.Length != 2 || info.Shape[1] != hidden || !info.DType.IsFloat())
                throw new EvoMergeException($"{model.Path}: tensor '{Name}' is {info.DType} {info.ShapeText}; expected floats [vocab, {hidden}]");
            return new EmbeddingRows(model.Weights, info, hidden);
        }

        public void AddRows(IReadOnlyList<int> tokens, double[] sum)
        {
            int size = info.DType.ElementSize() * hidden;
            var row = new float[hidden];
            foreach (int t in tokens)
            {
                if (t < 0 || t >= info.Shape[0])
                    throw new EvoMergeException($"{weights.Files[0].Path}: token id {t} is outside the embedding matrix {info.ShapeText} (tokenizer and model disagree)");
                FloatConversion.ToFloat32(weights.GetBytes(info, (long)t * size, size), info.DType, row);
                for (int i = 0; i < hidden; i++) sum[i] += row[i];
            }
        }
    }
}
