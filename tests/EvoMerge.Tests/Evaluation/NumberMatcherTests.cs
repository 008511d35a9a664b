using EvoMerge.TestSupport;
using EvoMerge.Evaluation.Answers;

namespace EvoMerge.Tests.Evaluation;

public class NumberMatcherTests
{
    static readonly NumberMatcher Standard = new(NumberExtraction.Standard);
    static readonly NumberMatcher Sakana = new(NumberExtraction.SakanaParity);

    [Theory]
    [InlineData("16-3-4=9個なので、9*2=18ドルです。答えは18です。", "18")]
    [InlineData("The total is 2,125 dollars.", "2,125")]
    [InlineData("He has 114,200 yen left", "114,200")]
    [InlineData("The temperature fell to -5 degrees", "-5")]
    [InlineData("3-2=1", "1")]                // a minus right after a digit is subtraction, not a sign
    [InlineData("１８個です", "18")]           // full-width digits
    [InlineData("合計は－１，２００円", "-1,200")]
    [InlineData("It costs $18.", "18")]       // a sentence's full stop is not a decimal point
    [InlineData("x = 2.5", "2.5")]
    [InlineData("We need .5 cups", ".5")]
    [InlineData("1,2,3", "3")]               // commas not in groups of three separate numbers
    [InlineData("答えは 1,0000 です", "0000")]  // "1,0000" is not a thousands grouping: 1 then 0000
    public void StandardReadsTheLastNumber(string reply, string expected) =>
        Assert.Equal(expected, Standard.LastNumber(reply));

    [Theory]
    [InlineData("The answer is 1,000.", "000")]   // the quirk: the comma splits the number
    [InlineData("It fell to -5 degrees", "5")]    // the quirk: no minus sign
    [InlineData("1.2.3", ".3")]
    [InlineData("１８個です", "１８")]               // \d is Unicode-aware in Python 3 and .NET alike
    public void SakanaParityKeepsTheQuirks(string reply, string expected) =>
        Assert.Equal(expected, Sakana.LastNumber(reply));

    [Theory]
    [InlineData("答えは18です。", "18", true)]
    [InlineData("答えは18.00です。", "18", true)]      // compared as numbers
    [InlineData("合計は2,125ドル", "2,125", true)]     // gold with a thousands comma
    [InlineData("合計は2125ドル", "2,125", true)]
    [InlineData("答えは17です。", "18", false)]
    [InlineData("わかりません", "18", false)]
    [InlineData("-3", "-3", true)]
    public void StandardComparesNumerically(string reply, string gold, bool correct)
    {
        var check = Standard.Check(reply, gold);
        Assert.Equal(correct, check.Correct);
    }

    [Theory]
    [InlineData("The answer is 1,000.", "1,000", false)]  // Sakana's regex reads 000
    [InlineData("The answer is 1,000.", "0", true)]
    [InlineData("It is -3", "-3", false)]                 // reads 3
    [InlineData("答えは18です", "18", true)]
    [InlineData("１８個です", "18", true)]                // Python's float() reads full-width digits
    public void SakanaParityComparesLikeTheReleasedCode(string reply, string gold, bool correct) =>
        Assert.Equal(correct, Sakana.Check(reply, gold).Correct);

    [Fact]
    public void NoNumberMeansNoAnswer()
    {
        var check = Standard.Check("わかりません", "5");
        Assert.Null(check.Extracted);
        Assert.False(check.Correct);
    }

    [Fact]
    public void AGoldThatIsNotANumberIsRejectedWithItsSource()
    {
        var e = Assert.Throws<EvoMergeException>(() => Standard.ValidateGold("eighteen", "data.tsv line 3"));
        Assert.Contains("data.tsv line 3", e.Message);
        Assert.Contains("eighteen", e.Message);
    }
}

/// <summary>Sakana-parity extraction checked against Python's own <c>re</c> and <c>float</c> on the same replies.</summary>
public class NumberMatcherPythonReferenceTests
{
    static readonly string[] Replies =
    [
        "The answer is 1,000.", "It fell to -5 degrees", "１８個です", "x = 2.5", "We need .5 cups", "1.2.3",
        "16-3-4=9個なので、9*2=18ドルです。答えは18です。", "合計は2,125ドル", "答えは 0.75 です", "no digits here",
        "3/4 = 0.75 so 75%", "12.", "価格は1,234,567円",
    ];

    [PythonReferenceFact("re")]
    public void MatchesPythonOnTheSameReplies()
    {
        string folder = Directory.CreateTempSubdirectory("evomerge-sakana-").FullName;
        try
        {
            string input = Path.Combine(folder, "replies.txt"), script = Path.Combine(folder, "extract.py");
            File.WriteAllLines(input, Replies);
            // The released evaluation's extraction: the last match of \d*\.?\d+, read with float().
            File.WriteAllText(script, """
                import re, sys
                for line in open(sys.argv[1], encoding="utf-8").read().splitlines():
                    m = re.findall(r"\d*\.?\d+", line)
                    print(repr(float(m[-1])) if m else "None")
                """);
            var (code, stdout, stderr) = PythonReference.Run($"{script} {input}", TimeSpan.FromSeconds(30));
            Assert.True(code == 0, stderr);
            var expected = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(Replies.Length, expected.Length);
            var matcher = new NumberMatcher(NumberExtraction.SakanaParity);
            for (int i = 0; i < Replies.Length; i++)
            {
                if (expected[i] == "None") { Assert.Null(matcher.LastNumber(Replies[i])); continue; }
                Assert.True(matcher.Check(Replies[i], expected[i]).Correct,
                    $"'{Replies[i]}': Python read {expected[i]}, we read '{matcher.LastNumber(Replies[i])}'");
            }
        }
        finally { Directory.Delete(folder, true); }
    }
}
