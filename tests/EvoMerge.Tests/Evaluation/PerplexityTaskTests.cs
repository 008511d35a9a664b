using EvoMerge.Evaluation;
using EvoMerge.Evaluation.Tasks;

namespace EvoMerge.Tests.Evaluation;

public class PerplexityTaskTests
{
    const string Text = "Once upon a time there was a little girl named Lily. She loved to play outside in the park. 日本語の文も少しあります。";

    [Theory]
    [InlineData(16, 8)]
    [InlineData(7, 100)]
    [InlineData(1000, 0)]
    public void WindowsCoverTheTextOnceWithThePrecedingTextAsContext(int window, int context)
    {
        var task = new PerplexityTask("ppl", Text, window, context);
        var windows = Enumerable.Range(0, task.Count).Select(task.WindowOf).ToArray();
        Assert.Equal(Text, string.Concat(windows.Select(w => w.Continuation)));
        int start = 0;
        foreach (var w in windows)
        {
            Assert.InRange(w.Continuation.Length, 1, window);
            Assert.Equal(Text[Math.Max(0, start - context)..start], w.Context);
            start += w.Continuation.Length;
        }
        Assert.Equal("", windows[0].Context);
    }

    [Fact]
    public void PerplexityAndBitsPerByteFromTheScores()
    {
        // Every window: 4 tokens with log-likelihood −4·ln 2 in total, i.e. p = 1/2 per token → perplexity exactly 2.
        var model = new ScriptedModel(score: _ => new ContinuationScore(-4 * Math.Log(2), 4, false));
        var task = new PerplexityTask("ppl", Text, 32, 32);
        var result = task.Evaluate(model);
        Assert.Equal("perplexity", result.Primary.Name);
        Assert.False(result.Primary.HigherIsBetter);
        Assert.Equal(2.0, result.Primary.Value, 12);
        // bits per byte = (4 bits per window · windows) / UTF-8 bytes of the text.
        double bytes = System.Text.Encoding.UTF8.GetByteCount(Text);
        Assert.Equal(4.0 * task.Count / bytes, result["bits_per_byte"].Value, 12);
        Assert.Equal(4.0 * task.Count, result["tokens"].Value);
    }

    [Fact]
    public void CutsAtWhitespaceWhenOneIsNearTheEnd()
    {
        var task = new PerplexityTask("ppl", "aaaa bbbb cccc", windowChars: 8, contextChars: 0);
        Assert.Equal(["aaaa ", "bbbb ", "cccc"], Enumerable.Range(0, task.Count).Select(i => task.WindowOf(i).Continuation));
    }
}
