using EvoMerge.Cli;

namespace EvoMerge.Torch.Tests.Cli;

public class CliErrorTests
{
    [Fact]
    public void UnknownVerbFailsWithOneLineError()
    {
        var err = new StringWriter();
        var saved = Console.Error;
        Console.SetError(err);
        try
        {
            Assert.NotEqual(0, CliApp.Run(["no-such-verb"]));
        }
        finally { Console.SetError(saved); }
        var lines = err.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error:", lines[0]);
        Assert.Contains("no-such-verb", lines[0]);
    }
}
