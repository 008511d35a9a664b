using EvoMerge.Evaluation.External;

namespace EvoMerge.Tests.Evaluation.External;

public class ScoreFileTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("evo-scores-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    (double Score, double[] Items)? Read(string json, out string? error)
    {
        string path = Path.Combine(_dir, "scores.json");
        File.WriteAllText(path, json);
        return ScoreFile.Read(path, out error);
    }

    [Fact]
    public void A_score_with_items_reads_as_written()
    {
        var r = Read("""{"items": [1, 0, 0.5, -2e-3], "score": 0.375}""", out var error);
        Assert.Null(error);
        Assert.Equal(0.375, r!.Value.Score);
        Assert.Equal([1, 0, 0.5, -0.002], r.Value.Items);
        Assert.Empty(Read("""{"score": -4}""", out _)!.Value.Items);
    }

    [Theory]
    [InlineData("{score: 1}", "wrote malformed JSON to")]
    [InlineData("", "wrote malformed JSON to")]
    [InlineData("""{"score": NaN}""", "wrote malformed JSON to")]
    [InlineData("[0.5]", "must hold one JSON object, got a list")]
    [InlineData("""{"scores": 0.5}""", "unknown key 'scores' (did you mean 'score'?); valid keys: score, items")]
    [InlineData("""{"items": [1]}""", "has no 'score' (the task's score, higher is better)")]
    [InlineData("""{"score": "0.5"}""", "'score' must be a finite number, got the string \"0.5\"")]
    [InlineData("""{"score": 1e999}""", "'score' must be a finite number, got 1e999")]
    [InlineData("""{"score": 1, "items": [1, null]}""", "'items[1]' must be a finite number, got null")]
    [InlineData("""{"score": 1, "items": {"0": 1}}""", "'items' must be a list of numbers (item i's score at position i), got an object")]
    public void A_bad_file_gives_an_error_naming_it_and_what_is_wrong(string json, string message)
    {
        Assert.Null(Read(json, out var error));
        Assert.Contains(message, error);
        Assert.Contains(Path.Combine(_dir, "scores.json"), error);
    }

    [Fact]
    public void A_missing_file_is_an_error()
    {
        string path = Path.Combine(_dir, "none.json");
        Assert.Null(ScoreFile.Read(path, out var error));
        Assert.Equal($"wrote no scores to {path}", error);
    }
}
