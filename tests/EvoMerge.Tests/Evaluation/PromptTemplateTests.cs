using EvoMerge.Evaluation;

namespace EvoMerge.Tests.Evaluation;

public class PromptTemplateTests
{
    [Fact]
    public void SakanaPromptRendersAsInThePaper()
    {
        var fields = new Dictionary<string, string> { ["question"] = "ロジャーは5個のテニスボールがあります。" };
        // Written out by hand from the released evaluation code's prompt.
        const string expected = "以下に、あるタスクを説明する指示があります。リクエストを適切に完了するための回答を日本語で記述してください。一歩一歩考えましょう。\n\n"
            + "### 指示:\nロジャーは5個のテニスボールがあります。\n\n### 応答:";
        Assert.Equal(expected, new PromptTemplate(PromptTemplate.SakanaJapaneseMath).Render(fields, "test"));
    }

    [Fact]
    public void FieldsAreSubstitutedAndDoubledBracesAreLiteral()
    {
        var template = new PromptTemplate("{{json}} {a}+{b}={a}{{}}");
        Assert.Equal(["a", "b"], template.Fields);
        Assert.Equal("{json} 1+2=1{}", template.Render(new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" }, "test"));
    }

    [Fact]
    public void AMissingFieldNamesTheItemAndTheField()
    {
        var e = Assert.Throws<EvoMergeException>(() =>
            new PromptTemplate("Q: {question}").Render(new Dictionary<string, string> { ["q"] = "x" }, "tasks.jsonl line 7"));
        Assert.Contains("tasks.jsonl line 7", e.Message);
        Assert.Contains("'question'", e.Message);
        Assert.Contains("q", e.Message);
    }

    [Theory]
    [InlineData("Q: {question")]
    [InlineData("Q: question}")]
    [InlineData("Q: {}")]
    public void MalformedTemplatesAreRejected(string text) =>
        Assert.Throws<EvoMergeException>(() => new PromptTemplate(text));
}
