using System.Text.RegularExpressions;
using EvoMerge.Demo;

namespace EvoMerge.Demo.Tests;

public class MiniatureWorldTests
{
    static readonly MiniatureWorld World = new();

    [Fact]
    public void SameSeedGivesSameLinesAndOtherSeedsDiffer()
    {
        var a = World.Lines(LineMix.Base, 7).Take(200).ToList();
        var b = new MiniatureWorld().Lines(LineMix.Base, 7).Take(200).ToList();
        var c = World.Lines(LineMix.Base, 8).Take(200).ToList();
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void SplitsHaveTheirSizesAndAreDisjoint()
    {
        var s = World.Splits;
        Assert.Equal(300, s.JaMathDev.Count);
        Assert.Equal(200, s.JaMathTest.Count);
        Assert.Equal(200, s.EnMathTest.Count);
        Assert.Equal(200, s.JaQaTest.Count);
        var devPrompts = s.JaMathDev.Select(p => p.JaPrompt).ToHashSet();
        var testPrompts = s.JaMathTest.Select(p => p.JaPrompt).ToHashSet();
        Assert.Equal(300, devPrompts.Count);
        Assert.Equal(200, testPrompts.Count);
        Assert.Empty(devPrompts.Intersect(testPrompts));
        // The splits are fixed: a fresh world draws exactly the same items.
        Assert.Equal(s.JaMathTest, new MiniatureWorld().Splits.JaMathTest);
    }

    [Fact]
    public void TrainingNeverShowsAHeldOutProblem()
    {
        var heldOutStatements = World.Splits.AllProblems().SelectMany(p => new[] { p.EnStatement, p.JaStatement }).ToList();
        var mixes = new[] { LineMix.Base, LineMix.Japanese, LineMix.EnglishMath };
        foreach (var line in mixes.SelectMany(m => World.Lines(m, 3).Take(3000)))
            Assert.DoesNotContain(heldOutStatements, s => line.Contains(s, StringComparison.Ordinal));
    }

    [Fact]
    public void MixSharesAreRespected()
    {
        var rng = new Random(1);
        var counts = new Dictionary<LineKind, int>();
        const int n = 100_000;
        for (int i = 0; i < n; i++)
        {
            var k = LineMix.Base.Draw(rng);
            counts[k] = counts.GetValueOrDefault(k) + 1;
        }
        foreach (var (kind, share) in LineMix.Base.Shares)
            Assert.InRange(counts[kind] / (double)n, share - 0.01, share + 0.01);
        Assert.False(counts.ContainsKey(LineKind.JaQa));
    }

    // The answers are re-derived from the text a model sees, by reading the operands back out of the sentence.
    [Fact]
    public void JapaneseMathAnswersAreTheSumWithTheThingsCounter()
    {
        var re = new Regex(@"を(\d+)(.)持っています。(?:.+から)?(\d+)(.)(?:買い|もらい)ました。全部で何(.)ですか\?\n答え: $");
        foreach (var p in World.Splits.JaMathTest)
        {
            var m = re.Match(p.JaPrompt);
            Assert.True(m.Success, p.JaPrompt);
            int sum = int.Parse(m.Groups[1].Value) + int.Parse(m.Groups[3].Value);
            Assert.Equal($"{sum}{m.Groups[2].Value}です。", p.JaAnswer);
            Assert.Equal(m.Groups[2].Value, m.Groups[4].Value);
            Assert.Equal(m.Groups[2].Value, m.Groups[5].Value);
        }
    }

    [Fact]
    public void EnglishMathAnswersAreTheSum()
    {
        var re = new Regex(@"^Q: \w+ has (\d+) \w+ and (?:buys|gets) (\d+) more.*\nA: $");
        foreach (var p in World.Splits.EnMathTest)
        {
            var m = re.Match(p.EnPrompt);
            Assert.True(m.Success, p.EnPrompt);
            Assert.Equal((int.Parse(m.Groups[1].Value) + int.Parse(m.Groups[2].Value)).ToString(), p.EnAnswer);
        }
    }

    [Fact]
    public void JapaneseQaAnswersComeFromTheStatement()
    {
        foreach (var item in World.Splits.JaQaTest.Select(q => (Prompt: q.Problem.JaQaPrompt(q.Kind), Answer: q.Problem.JaQaAnswer(q.Kind))))
        {
            if (item.Prompt.Contains("最初は"))
                Assert.Equal(Regex.Match(item.Prompt, @"を(\d+.)持っています").Groups[1].Value + "です。", item.Answer);
            else if (item.Prompt.Contains("どこに"))
                Assert.Equal(Regex.Match(item.Prompt, @"は(.+?)に住んでいます").Groups[1].Value + "です。", item.Answer);
            else
                Assert.Equal(Regex.Match(item.Prompt, @"問: .+?は(.+?)を\d").Groups[1].Value + "です。", item.Answer);
        }
    }

    [Fact]
    public void ExampleLinesReadAsTheIssueWritesThem()
    {
        var tom = WorldLexicon.People[0];
        var p = new WordProblem(tom, WorldLexicon.People[1], WorldLexicon.Cities[1], WorldLexicon.Things[0], 3, 5, Gift: false);
        Assert.Equal("Q: Tom has 3 apples and buys 5 more. How many apples now?\nA: 8", p.EnPrompt + p.EnAnswer);
        Assert.Equal("問: 太郎はりんごを3個持っています。5個買いました。全部で何個ですか?\n答え: 8個です。", p.JaPrompt + p.JaAnswer);
        Assert.Equal("問: 太郎はりんごを3個持っています。5個買いました。最初は何個ですか?\n答え: 3個です。",
            p.JaQaPrompt(QaKind.FirstNumber) + p.JaQaAnswer(QaKind.FirstNumber));
    }
}
