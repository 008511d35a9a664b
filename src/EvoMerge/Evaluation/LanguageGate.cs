using Lingua;

namespace EvoMerge.Evaluation;

/// <summary>
/// "The reply must be in language X" (the paper's acc_ja: correct and p(ja) &gt; 0.5). Uses Lingua with only the
/// target and a few likely confusions loaded — all 75 languages' models would cost hundreds of MB and seconds.
/// Lingua's confidences are relative to the loaded languages, so the rivals matter: English (what the math
/// source models answer in) and, for CJK targets, Chinese / Japanese / Korean, which share characters.
/// </summary>
public sealed class LanguageGate
{
    readonly LanguageDetector _detector;
    readonly Language _target;

    public string TargetCode { get; }
    public double Threshold { get; }

    /// <param name="isoCode">ISO 639-1 code of the required language, e.g. "ja".</param>
    /// <param name="threshold">Minimum confidence for the target language.</param>
    public LanguageGate(string isoCode, double threshold = 0.5)
    {
        _target = Parse(isoCode);
        TargetCode = isoCode.ToLowerInvariant();
        Threshold = threshold;
        Language[] cjk = [Language.Chinese, Language.Japanese, Language.Korean];
        var languages = new HashSet<Language> { _target, Language.English };
        if (cjk.Contains(_target)) languages.UnionWith(cjk);
        else languages.Add(_target == Language.French ? Language.Spanish : Language.French); // Lingua needs ≥ 2; one Latin rival
        _detector = LanguageDetectorBuilder.FromLanguages(languages.ToArray()).Build();
    }

    /// <summary>The detected language's ISO 639-1 code (null when undecidable) and whether the target passes.</summary>
    public (string? Detected, bool Passes) Check(string text)
    {
        IReadOnlyDictionary<Language, double> confidences;
        lock (_detector) confidences = _detector.ComputeLanguageConfidenceValues(text); // it loads models lazily: one caller at a time
        double target = confidences.TryGetValue(_target, out double c) ? c : 0;
        var best = confidences.Count == 0 || confidences.First().Value == 0 ? (Language?)null : confidences.First().Key;
        string? code = best == null ? null : LanguageInfo.IsoCode6391(best.Value).ToString().ToLowerInvariant();
        return (code, target > Threshold);
    }

    static Language Parse(string isoCode)
    {
        if (Enum.TryParse<IsoCode6391>(isoCode, ignoreCase: true, out var code) && code != IsoCode6391.None)
            return LanguageInfo.GetByIsoCode6391(code);
        throw new EvoMergeException($"language '{isoCode}' is not an ISO 639-1 code Lingua knows (expected e.g. ja, en, de)");
    }
}
