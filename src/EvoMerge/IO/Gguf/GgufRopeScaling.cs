using System.Text.Json;

namespace EvoMerge.IO.Gguf;

/// <summary>
/// config.json's <c>rope_scaling</c> as llama.cpp expects it: <c>linear</c> becomes metadata
/// (<c>rope.scaling.type</c>, <c>rope.scaling.factor</c>); <c>llama3</c> (Llama 3.1+) becomes the
/// <c>rope_freqs.weight</c> tensor of per-frequency divisors, as llama.cpp's converter writes it.
/// </summary>
public sealed record GgufRopeScaling(string Type, double Factor, double LowFreqFactor, double HighFreqFactor, int OriginalContextLength)
{
    /// <summary>Parses <c>rope_scaling</c> (JSON text); null for none or "default"; an error for kinds llama.cpp cannot be given here.</summary>
    public static GgufRopeScaling? Parse(string? json, string configPath)
    {
        if (json == null) return null;
        using var doc = JsonDocument.Parse(json);
        var o = doc.RootElement;
        string type = (o.TryGetProperty("rope_type", out var t) || o.TryGetProperty("type", out t)) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
        double Num(string name, double fallback) => o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : fallback;
        if (type == "default") return null;
        if (type is not ("linear" or "llama3"))
            throw new EvoMergeException($"{configPath}: field 'rope_scaling.rope_type' is '{type}'; GGUF export supports linear and llama3");
        var scaling = new GgufRopeScaling(type, Num("factor", 1), Num("low_freq_factor", 1), Num("high_freq_factor", 4),
            (int)Num("original_max_position_embeddings", 8192));
        if (scaling.Factor <= 0) throw new EvoMergeException($"{configPath}: field 'rope_scaling.factor' must be positive");
        return scaling;
    }

    public void AddTo(GgufMetadata metadata, string architecture)
    {
        if (Type != "linear") return;
        metadata.Add($"{architecture}.rope.scaling.type", "linear");
        metadata.Add($"{architecture}.rope.scaling.factor", (float)Factor);
    }

    /// <summary>
    /// For llama3: the divisor of each of the <paramref name="headDim"/>/2 RoPE frequencies. High frequencies
    /// (wavelength under original context / high_freq_factor) are kept, low ones divided by the factor, and
    /// the band between interpolated smoothly: transformers' llama3 rule expressed as llama.cpp's freq factors.
    /// </summary>
    public float[]? FrequencyFactors(int headDim, double ropeTheta)
    {
        if (Type != "llama3") return null;
        double lowWavelen = OriginalContextLength / LowFreqFactor, highWavelen = OriginalContextLength / HighFreqFactor;
        var factors = new float[headDim / 2];
        for (int i = 0; i < factors.Length; i++)
        {
            double wavelen = 2 * Math.PI * Math.Pow(ropeTheta, 2.0 * i / headDim);
            double smooth = (OriginalContextLength / wavelen - LowFreqFactor) / (HighFreqFactor - LowFreqFactor);
            factors[i] = (float)(wavelen < highWavelen ? 1 : wavelen > lowWavelen ? Factor : 1 / ((1 - smooth) / Factor + smooth));
        }
        return factors;
    }
}
