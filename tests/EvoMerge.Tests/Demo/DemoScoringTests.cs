using EvoMerge.Demo;

namespace EvoMerge.Tests.Demo;

public class DemoScoringTests
{
    static readonly DemoItem Apples = new("問: …\n答え: ", "8個です。", 8, "個");

    [Theory]
    [InlineData("8個です。", true, true)]
    [InlineData("8個", true, true)]
    [InlineData(" 8個です。\n問: ", true, true)]
    [InlineData("8本です。", false, true)]
    [InlineData("8", false, true)]
    [InlineData("18個です。", false, false)]
    [InlineData("81個", false, false)]
    [InlineData("個8です", false, true)]
    [InlineData("七個です。", false, false)]
    [InlineData("\n8個", false, false)]
    public void StrictNeedsNumberThenCounterNumberOnlyNeedsTheNumber(string completion, bool strict, bool number)
    {
        Assert.Equal(strict, DemoScoring.JaMathStrict(completion, Apples));
        Assert.Equal(number, DemoScoring.NumberMatches(completion, Apples));
    }

    [Theory]
    [InlineData("3個です。", true)]
    [InlineData("3個です。\n問", true)]
    [InlineData("3個", false)]
    [InlineData("8個です。", false)]
    public void QaNeedsTheWholeAnswer(string completion, bool right) =>
        Assert.Equal(right, DemoScoring.AnswerMatches(completion, new DemoItem("", "3個です。", 3, "個")));
}
