using EvoMerge.Evaluation.Answers;

namespace EvoMerge.Tests.Evaluation;

public class TextMatcherTests
{
    [Theory]
    [InlineData("  東京  \n首都です", "東京", true)]   // first non-blank line, trimmed
    [InlineData("\n\nParis\n", "Paris", true)]
    [InlineData("paris", "Paris", false)]            // case-sensitive
    [InlineData("The answer is Paris", "Paris", false)]
    public void ExactComparesTheFirstLine(string reply, string gold, bool correct) =>
        Assert.Equal(correct, new ExactMatcher().Check(reply, gold).Correct);

    [Theory]
    [InlineData(@"(\d+個)", "りんごは3個、みかんは5個です", "5個", "5個", true)]   // the last match's group 1
    [InlineData(@"(\d+個)", "りんごは3個、みかんは5個です", "3個", "5個", false)]
    [InlineData(@"(\d+個)", "答えは5です", "5個", null, false)]
    [InlineData(@"\d+個", "答えは 12個 です", "12個", "12個", true)]              // no group: the whole match
    [InlineData(@"Answer: (\w+)", "Answer: B\nAnswer: C", "C", "C", true)]
    public void RegexTakesTheLastMatch(string pattern, string reply, string gold, string? extracted, bool correct)
    {
        var check = new RegexMatcher(pattern).Check(reply, gold);
        Assert.Equal(extracted, check.Extracted);
        Assert.Equal(correct, check.Correct);
    }

    [Fact]
    public void ABadRegexIsAUserError()
    {
        var e = Assert.Throws<EvoMergeException>(() => new RegexMatcher("(unclosed"));
        Assert.Contains("(unclosed", e.Message);
    }
}
