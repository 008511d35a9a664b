using System.Globalization;
using System.Text;

namespace EvoMerge.Evaluation.Rouge;

/// <summary>
/// The default ROUGE tokenisation, needing nothing installed: Japanese, Chinese and Korean have no spaces, so each
/// CJK character (Han, hiragana, katakana, hangul) is one token; any other run of letters, digits and marks is one
/// token (lower-cased), as in space-separated languages. Whitespace, punctuation and symbols separate tokens and
/// are dropped (「赤い。」 and 赤い score alike).
/// </summary>
public sealed class CharacterTokenizer : IAnswerTokenizer
{
    public string Name => "char";

    public IReadOnlyList<IReadOnlyList<string>> Tokenize(IReadOnlyList<string> texts) => texts.Select(Tokenize).ToArray();

    public static IReadOnlyList<string> Tokenize(string text)
    {
        var tokens = new List<string>();
        var word = new StringBuilder();
        void Flush()
        {
            if (word.Length > 0) tokens.Add(word.ToString().ToLowerInvariant());
            word.Clear();
        }
        foreach (var rune in text.EnumerateRunes())
        {
            if (IsSeparator(rune)) { Flush(); continue; }
            if (IsCjk(rune.Value))
            {
                Flush();
                tokens.Add(rune.ToString());
                continue;
            }
            word.Append(rune.ToString());
        }
        Flush();
        return tokens;
    }

    /// <summary>Whitespace, punctuation (P*) and symbols (S*), and control characters.</summary>
    public static bool IsSeparator(Rune rune)
    {
        if (Rune.IsWhiteSpace(rune) || Rune.IsControl(rune)) return true;
        return Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
                or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation
                or UnicodeCategory.OtherPunctuation or UnicodeCategory.MathSymbol or UnicodeCategory.CurrencySymbol
                or UnicodeCategory.ModifierSymbol or UnicodeCategory.OtherSymbol => true,
            _ => false,
        };
    }

    /// <summary>Han (with extensions and compatibility ideographs), hiragana, katakana (with half-width), hangul.</summary>
    public static bool IsCjk(int c) =>
        c is >= 0x3040 and <= 0x30FF            // hiragana, katakana (incl. ー)
        or >= 0x31F0 and <= 0x31FF              // katakana phonetic extensions
        or >= 0x3400 and <= 0x4DBF              // Han extension A
        or >= 0x4E00 and <= 0x9FFF              // Han
        or >= 0xF900 and <= 0xFAFF              // Han compatibility
        or >= 0xFF66 and <= 0xFF9F              // half-width katakana
        or >= 0x1100 and <= 0x11FF or >= 0x3130 and <= 0x318F or >= 0xAC00 and <= 0xD7AF   // hangul
        or >= 0x20000 and <= 0x3FFFF;           // Han extensions B and later
}
