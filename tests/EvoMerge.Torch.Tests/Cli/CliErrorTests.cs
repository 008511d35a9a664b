namespace EvoMerge.Torch.Tests.Cli;

public class CliErrorTests
{
    [Fact]
    public void UnknownVerbFailsWithOneLineError()
    {
        var (code, _, err) = CliRunner.Run("no-such-verb");
        Assert.NotEqual(0, code);
        var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error:", line);
        Assert.Contains("no-such-verb", line);
    }

    /// <summary>Issue 10 item 12: unknown options were accepted and ignored; now one line naming the nearest valid one.</summary>
    [Theory]
    [InlineData(new[] { "merge", "r.yml", "out", "--sede", "3" }, "unknown option '--sede' (did you mean '--seed'?)")]
    [InlineData(new[] { "inspect", "m", "--jsn" }, "unknown option '--jsn' (did you mean '--json'?)")]
    [InlineData(new[] { "evolve", "e.yml", "--resum" }, "unknown option '--resum' (did you mean '--resume'?)")]
    [InlineData(new[] { "export", "gguf", "m", "o.gguf", "--typ", "q8_0" }, "unknown option '--typ' (did you mean '--type'?)")]
    [InlineData(new[] { "check", "r.yml", "--zzzzzz" }, "unknown option '--zzzzzz'; this command's options: --json, --compat, --strict, --threads, --intermediate-dir, --seed")]
    public void UnknownOptionsFailAndNameTheNearestValidOne(string[] args, string expected)
    {
        var (code, _, err) = CliRunner.Run(args);
        Assert.Equal(1, code);
        var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        Assert.Contains(expected, line);
    }
}
