using System.Text.Json;
using EvoMerge.Evaluation;

namespace EvoMerge.Tests.Evaluation;

public sealed class ItemJsonlWriterTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("evomerge-items-").FullName;

    public void Dispose() => Directory.Delete(_folder, true);

    [Fact]
    public void WritesOneReadableObjectPerItemAndAppearsOnlyWhenComplete()
    {
        string path = Path.Combine(_folder, "items.jsonl");
        using (var writer = new ItemJsonlWriter(path))
        {
            writer.Write(new ItemResult(3, "問題：1+1?", "答えは2です。", "2", "2", true));
            writer.Write(new ItemResult(4, "p", "o", null, "g", false, AnswerCorrect: true, Language: "en", InLanguage: false));
            Assert.False(File.Exists(path));
            writer.Complete();
        }
        var lines = File.ReadAllLines(path);
        Assert.Equal(2, lines.Length);
        Assert.Contains("答えは2です。", lines[0]);                  // not \u-escaped
        Assert.Equal("""{"index":3,"prompt":"問題：1+1?","output":"答えは2です。","extracted":"2","gold":"2","correct":true}""", lines[0]);
        var second = JsonDocument.Parse(lines[1]).RootElement;
        Assert.Equal("en", second.GetProperty("language").GetString());
        Assert.False(second.GetProperty("in_language").GetBoolean());
        Assert.False(second.TryGetProperty("extracted", out _));
        Assert.Equal([path], Directory.GetFiles(_folder));   // no partial file left
    }

    [Fact]
    public void A_users_file_named_like_the_old_partial_name_is_never_truncated()
    {
        string path = Path.Combine(_folder, "items.jsonl");
        File.WriteAllText(path + ".partial", "mine");
        using (var writer = new ItemJsonlWriter(path))
        {
            writer.Write(new ItemResult(0, "p", "o", null, "g", false));
            writer.Complete();
        }
        Assert.Equal("mine", File.ReadAllText(path + ".partial"));
        Assert.Single(File.ReadAllLines(path));
    }

    [Fact]
    public void AnAbandonedRunLeavesNothing()
    {
        string path = Path.Combine(_folder, "items.jsonl");
        using (var writer = new ItemJsonlWriter(path)) writer.Write(new ItemResult(0, "p", "o", null, "g", false));
        Assert.Empty(Directory.GetFiles(_folder));
    }

    [Fact]
    public void AMissingFolderIsAUserError() =>
        Assert.Throws<EvoMergeException>(() => new ItemJsonlWriter(Path.Combine(_folder, "no", "items.jsonl")));
}
