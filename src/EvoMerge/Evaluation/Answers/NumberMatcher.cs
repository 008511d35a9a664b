using System.Globalization;
using System.Text.RegularExpressions;

namespace EvoMerge.Evaluation.Answers;

/// <summary>How the last number of a reply is read.</summary>
public enum NumberExtraction
{
    /// <summary>Signed numbers, thousands commas (<c>1,000</c> is 1000), decimals, full-width digits.</summary>
    Standard,

    /// <summary>
    /// Sakana's released code, quirks included, for numbers comparable with the paper: the last match of
    /// <c>\d*\.?\d+</c>, so no minus sign, and <c>1,000</c> reads as <c>000</c> (= 0).
    /// </summary>
    SakanaParity,
}

/// <summary>The last number in the reply, compared numerically with the gold number (whose commas are dropped).</summary>
public sealed partial class NumberMatcher(NumberExtraction mode = NumberExtraction.Standard) : IAnswerMatcher
{
    // A minus sign counts only when no digit precedes it ("3-2" is 3 then 2); commas only in groups of three.
    [GeneratedRegex(@"(?:(?<!\d)-)?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?|(?:(?<!\d)-)?\.\d+")]
    private static partial Regex StandardNumber();

    [GeneratedRegex(@"\d*\.?\d+")]
    private static partial Regex SakanaNumber();

    public NumberExtraction Mode => mode;

    public AnswerCheck Check(string output, string gold)
    {
        string? found = LastNumber(output);
        if (found == null) return new AnswerCheck(null, false);
        decimal goldValue = ParseGold(gold) ?? throw new EvoMergeException($"gold answer '{gold}' is not a number");
        bool correct = TryParse(found, out decimal value) && value == goldValue;
        return new AnswerCheck(found, correct);
    }

    public void ValidateGold(string gold, string where)
    {
        if (ParseGold(gold) == null) throw new EvoMergeException($"{where}: answer '{gold}' is not a number (expected e.g. 18, -3, 2.5 or 2,125)");
    }

    /// <summary>The last number in <paramref name="text"/> as written (after this mode's normalisation), or null.</summary>
    public string? LastNumber(string text)
    {
        if (mode == NumberExtraction.Standard) text = FoldNumberCharacters(text);
        var regex = mode == NumberExtraction.Standard ? StandardNumber() : SakanaNumber();
        Match? last = null;
        for (var m = regex.Match(text); m.Success; m = m.NextMatch()) last = m;
        return last?.Value;
    }

    static decimal? ParseGold(string gold) => TryParse(gold.Trim(), out decimal v) ? v : null;

    static bool TryParse(string number, out decimal value) =>
        decimal.TryParse(AsciiDigits(number.Replace(",", "")), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint,
            CultureInfo.InvariantCulture, out value);

    // .NET's \d, like Python 3's, matches every Unicode decimal digit, and Python's float() accepts them: so must we.
    static string AsciiDigits(string number) =>
        number.All(char.IsAsciiDigit) ? number
            : string.Concat(number.Select(c => char.IsDigit(c) ? (char)('0' + (int)char.GetNumericValue(c)) : c));

    /// <summary>
    /// Full-width and other Unicode digits, commas, points and minus signs to ASCII (Japanese replies use them).
    /// By hand because NFKC is unavailable under the project's invariant globalization.
    /// </summary>
    static string FoldNumberCharacters(string text) =>
        string.Create(text.Length, text, static (span, source) =>
        {
            for (int i = 0; i < source.Length; i++)
            {
                char c = source[i];
                span[i] = c switch
                {
                    _ when c > 127 && char.IsDigit(c) => (char)('0' + (int)char.GetNumericValue(c)),
                    '，' => ',',
                    '．' => '.',
                    '－' or '−' => '-',
                    _ => c,
                };
            }
        });
}
