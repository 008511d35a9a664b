using EvoMerge.Evaluation;

namespace EvoMerge.Tests.Evaluation;

public class LanguageGateTests
{
    static readonly LanguageGate Japanese = new("ja");

    [Theory]
    // Replies of the kind MGSM-JA gets: Japanese chain of thought with arithmetic in it.
    [InlineData("ジャネットは1日に16個の卵を得ます。3個を朝食に、4個をマフィンに使うので、16-3-4=9個が残ります。9×2=18ドルなので、答えは18です。", true)]
    [InlineData("ロジャーは最初5個のボールがありました。テニスボール3個入りの缶が2つあれば、テニスボールは6個あります。5+6=11。答えは11です。", true)]
    // English math reasoning, what the English source models answer in.
    [InlineData("Janet sells 16 - 3 - 4 = 9 duck eggs a day. She makes 9 * 2 = $18 every day at the farmer's market. The answer is 18.", false)]
    // Chinese shares the characters but not the kana.
    [InlineData("珍妮特的鸭子每天下16个蛋。她每天早餐吃三个，每天用四个给朋友做松饼。她每天在农贸市场赚多少钱？", false)]
    public void JapaneseRepliesPassAndOthersDoNot(string reply, bool passes)
    {
        var (detected, ok) = Japanese.Check(reply);
        Assert.Equal(passes, ok);
        if (passes) Assert.Equal("ja", detected);
    }

    [Fact]
    public void EnglishGateOnEnglishText()
    {
        var (detected, ok) = new LanguageGate("en").Check("The answer is 18 because she sells nine eggs at two dollars each.");
        Assert.True(ok);
        Assert.Equal("en", detected);
    }

    [Fact]
    public void AnEmptyReplyPassesNoGate() => Assert.False(Japanese.Check("").Passes);

    [Fact]
    public void UnknownCodesAreRejected()
    {
        var e = Assert.Throws<EvoMergeException>(() => new LanguageGate("xx"));
        Assert.Contains("'xx'", e.Message);
    }
}
