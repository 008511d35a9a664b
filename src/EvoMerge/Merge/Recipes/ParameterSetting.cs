using System.Text.RegularExpressions;
using EvoMerge.Anatomy;

namespace EvoMerge.Merge.Recipes;

/// <summary>Where something was written in the recipe file, for messages ("recipe.yml:12:5").</summary>
public readonly record struct RecipeMark(string File, int Line, int Column)
{
    public override string ToString() => $"{File}:{Line}:{Column}";
}

/// <summary>
/// A parameter value as mergekit recipes write it: a scalar (<c>0.5</c>, <c>true</c>), a gradient (<c>[0, 0.5, 1]</c>,
/// piecewise-linear over the layers of a slice), or a filter list (<c>- filter: self_attn / value: …</c>, first
/// match wins, an entry without filter matches everything). Filters match by substring as in mergekit; as
/// extensions, a filter containing <c>*</c> or <c>?</c> is a glob, one written <c>re:…</c> a regular expression
/// (.NET syntax, matched in linear time: no backreferences or lookarounds), and <c>module:</c>, <c>part:</c> and
/// <c>layers:</c> select by the tensor's place in the anatomy (<see cref="TensorFilter"/>).
/// </summary>
public sealed class ParameterSetting
{
    public double? Scalar { get; private init; }

    public IReadOnlyList<double>? Gradient { get; private init; }

    public IReadOnlyList<(TensorFilter? Filter, ParameterSetting Value)>? Filters { get; private init; }

    public RecipeMark Mark { get; private init; }

    public static ParameterSetting Of(double value, RecipeMark mark) => new() { Scalar = value, Mark = mark };

    public static ParameterSetting OfGradient(IReadOnlyList<double> values, RecipeMark mark) => new() { Gradient = values, Mark = mark };

    public static ParameterSetting OfFilters(IReadOnlyList<(TensorFilter?, ParameterSetting)> filters, RecipeMark mark) => new() { Filters = filters, Mark = mark };

    /// <summary>
    /// The value for tensor <paramref name="tensorName"/> at relative depth <paramref name="t"/> (0..1 over the slice),
    /// or null when a filter list has no matching entry (the caller then falls back to the next level).
    /// </summary>
    /// <param name="place">The tensor's place, which <c>module:</c>/<c>part:</c>/<c>layers:</c> filters match on.</param>
    public double? Evaluate(string tensorName, double t, TensorPlace? place = null)
    {
        if (Scalar is double s) return s;
        if (Gradient is { } g)
        {
            if (g.Count == 1) return g[0];
            double scaled = t * (g.Count - 1);
            int i0 = Math.Min((int)Math.Floor(scaled), g.Count - 1), i1 = Math.Min(i0 + 1, g.Count - 1);
            double fraction = scaled - i0;
            return (1 - fraction) * g[i0] + fraction * g[i1];
        }
        foreach (var (filter, value) in Filters!)
            if (filter == null || filter.Matches(tensorName, place)) return value.Evaluate(tensorName, t, place);
        return null;
    }

    /// <summary>Every number written in the setting, for validation (NaN, range).</summary>
    public IEnumerable<(double Value, RecipeMark Mark)> Numbers()
    {
        if (Scalar is double s) yield return (s, Mark);
        if (Gradient is { } g) foreach (var v in g) yield return (v, Mark);
        if (Filters is { } f) foreach (var (_, value) in f) foreach (var n in value.Numbers()) yield return n;
    }
}

/// <summary>
/// Which tensors a filter entry applies to: by name (substring, glob, <c>re:</c>), or by place in the anatomy:
/// <c>module:unet</c> (text_encoder, text_encoder_2, vae, text_decoder, vision_tower, projector), <c>part:attention</c>
/// (mlp, convolution: in a UNet block everything but the attention projections), <c>layers:4</c> or <c>layers:0-8</c>
/// (decoder layers, or UNet blocks numbered IN00 = 0 … M00 … OUT; see docs/diffusion.md).
/// </summary>
public sealed class TensorFilter
{
    readonly Regex? _regex;
    readonly Func<TensorPlace, bool>? _place;

    public string Text { get; }

    /// <exception cref="FormatException">a <c>module:</c>, <c>part:</c> or <c>layers:</c> filter with an unknown value.</exception>
    public TensorFilter(string text)
    {
        Text = text;
        _place = PlaceTest(text);
        if (_place != null) return;
        // The linear-time engine: a pattern such as ^(([a-z0-9_]+\.?)+)+[A-Z]$ cannot backtrack for ever on a tensor name.
        const RegexOptions options = RegexOptions.CultureInvariant | RegexOptions.NonBacktracking;
        if (text.StartsWith("re:", StringComparison.Ordinal)) _regex = new Regex(text[3..], options);
        else if (text.Contains('*') || text.Contains('?'))
            _regex = new Regex("^" + Regex.Escape(text).Replace(@"\*", ".*").Replace(@"\?", ".") + "$", options);
    }

    /// <summary>mergekit: "*" matches everything, otherwise substring; globs, "re:" regexes and place filters are extensions.</summary>
    public bool Matches(string tensorName, TensorPlace? place = null) =>
        _place != null ? place is { } p && _place(p)
        : Text == "*" || (_regex?.IsMatch(tensorName) ?? tensorName.Contains(Text, StringComparison.Ordinal));

    static readonly Dictionary<string, ModelModule> Modules = new()
    {
        ["unet"] = ModelModule.Unet, ["text_encoder"] = ModelModule.TextEncoder, ["text_encoder_2"] = ModelModule.TextEncoder2,
        ["vae"] = ModelModule.Vae, ["text_decoder"] = ModelModule.TextDecoder, ["vision_tower"] = ModelModule.VisionTower,
        ["projector"] = ModelModule.Projector,
    };

    static readonly Dictionary<string, TensorPart> Parts = new()
    {
        ["attention"] = TensorPart.Attention, ["mlp"] = TensorPart.Mlp, ["convolution"] = TensorPart.Convolution,
    };

    static Func<TensorPlace, bool>? PlaceTest(string text)
    {
        int colon = text.IndexOf(':');
        if (colon < 0) return null;
        string kind = text[..colon], value = text[(colon + 1)..].Trim();
        switch (kind)
        {
            case "module":
                var module = Modules.TryGetValue(value, out var m) ? m
                    : throw new FormatException($"unknown module '{value}'{NearestName.Suggest(value, Modules.Keys)}; valid: {string.Join(", ", Modules.Keys)}");
                return p => p.Module == module;
            case "part":
                var part = Parts.TryGetValue(value, out var pt) ? pt
                    : throw new FormatException($"unknown part '{value}'{NearestName.Suggest(value, Parts.Keys)}; valid: {string.Join(", ", Parts.Keys)}");
                return p => p.Role == TensorRole.Layer && p.Part == part;
            case "layers":
                var ends = value.Split('-');
                if (ends.Length > 2 || !ends.All(e => int.TryParse(e, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _)))
                    throw new FormatException($"layers: expected a layer number or a range such as 0-8, got '{value}'");
                int first = int.Parse(ends[0], System.Globalization.CultureInfo.InvariantCulture), last = int.Parse(ends[^1], System.Globalization.CultureInfo.InvariantCulture);
                return p => p.Role == TensorRole.Layer && p.Layer >= first && p.Layer <= last;
            default:
                return null;   // a name with a colon in it, matched as a name
        }
    }
}
