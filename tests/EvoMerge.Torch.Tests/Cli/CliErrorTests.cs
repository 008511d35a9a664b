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
}
