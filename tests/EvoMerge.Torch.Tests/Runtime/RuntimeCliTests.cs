using System.Text.Json;
using EvoMerge.Cli;
using EvoMerge.TestSupport;
using EvoMerge.Torch.Tests.Cli;
using static EvoMerge.Torch.Tests.Cli.CliRunner;

namespace EvoMerge.Torch.Tests.Runtime;

/// <summary><c>evomerge import llama2c</c> then <c>evomerge generate</c> on stories260K, through the real CLI entry point.</summary>
public class RuntimeCliTests
{
    [SharedDataFact("models/stories260k/stories260K.bin")]
    public void ImportThenGeneratePrintsThePublishedSample()
    {
        string dir = Path.Combine(Path.GetTempPath(), "evomerge-cli-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (code, _, err) = Run("import", "llama2c", SharedData.PathOf("models/stories260k/stories260K.bin"),
                SharedData.PathOf("models/stories260k/tok512.bin"), dir);
            Assert.True(code == 0, err);

            (code, string text, err) = Run("generate", dir, "--max-new-tokens", "80", "--threads", "2");
            Assert.True(code == 0, err);
            Assert.StartsWith(Stories260kGoldenTests.Published, text);

            (code, string json, err) = Run("generate", dir, "Once upon a time", "--max-new-tokens", "5", "--json", "--dtype", "bf16");
            Assert.True(code == 0, err);
            using var doc = JsonDocument.Parse(json);
            Assert.Equal(1, doc.RootElement.GetProperty("prompt_ids")[0].GetInt32());   // BOS first
            Assert.Equal(5, doc.RootElement.GetProperty("ids").GetArrayLength());

            (code, _, err) = Run("generate", dir, "Hi", "--chat");
            Assert.Equal(1, code);
            Assert.Contains("tokenizer_config.json: no 'chat_template'", err);

            (code, _, err) = Run("generate", dir, "--device", "tpu");
            Assert.Equal(1, code);
            Assert.Contains("device 'tpu'", err);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void ImportOfAMissingCheckpointFailsWithOneLine()
    {
        var (code, _, err) = Run("import", "llama2c", "/nonexistent/model.bin", "/nonexistent/tok.bin", Path.GetTempPath());
        Assert.Equal(1, code);
        Assert.StartsWith("error: /nonexistent/model.bin", err.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]);
    }
}
