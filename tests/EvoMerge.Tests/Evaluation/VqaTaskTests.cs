using EvoMerge.Evaluation;
using EvoMerge.Evaluation.Data;
using EvoMerge.Evaluation.Rouge;
using EvoMerge.Evaluation.Tasks;

namespace EvoMerge.Tests.Evaluation;

/// <summary>The vqa task's data checks, prompts and scoring with a scripted model (scores by hand).</summary>
public class VqaTaskTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("vqa-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    string Data(params string[] lines)
    {
        Directory.CreateDirectory(Path.Combine(dir, "img"));
        File.WriteAllBytes(Path.Combine(dir, "img", "a.png"), [1]);
        string path = Path.Combine(dir, "vqa.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    sealed class Scripted(params string[] replies) : IVisionLanguageModel
    {
        public List<VisionPrompt> Seen { get; } = [];
        public IReadOnlyList<string> Generate(IReadOnlyList<VisionPrompt> prompts, GenerationOptions options)
        {
            Seen.AddRange(prompts);
            return prompts.Select((_, i) => replies[Seen.Count - prompts.Count + i]).ToArray();
        }
        public IReadOnlyList<string> Generate(IReadOnlyList<string> prompts, GenerationOptions options) => throw new NotSupportedException();
        public IReadOnlyList<ContinuationScore> ScoreContinuations(IReadOnlyList<ContinuationRequest> requests) => throw new NotSupportedException();
    }

    [Fact]
    public void ScoresBestAnswerAndGatesOtherLanguages()
    {
        string path = Data(
            """{"image": "img/a.png", "question": "何色?", "answers": ["赤い自転車", "赤"]}""",
            """{"image": "img/a.png", "question": "何匹?", "answer": "二匹の猫"}""");
        var task = new VqaTask("vqa", VqaData.Load(path), new PromptTemplate(VqaTask.JapanesePreset), new CharacterTokenizer(), new LanguageGate("ja"));
        var model = new Scripted("赤い車です。", "two cats");
        var result = task.Evaluate(model);
        // Item 0: "赤い車です" vs "赤い自転車": LCS 赤,い,車 = 3, P = 3/5, R = 3/5 → 60; vs "赤": P 1/5, R 1 → 33.3. Best 60.
        Assert.Equal(60, result.Items[0].Score!.Value, 9);
        // Item 1: English reply to a Japanese question counts as empty.
        Assert.Equal(0, result.Items[1].Score);
        Assert.False(result.Items[1].InLanguage);
        Assert.Equal(30, result.Primary.Value, 9);
        Assert.Equal("rouge_l", result.Primary.Name);
        Assert.Equal([Path.Combine(dir, "img", "a.png")], model.Seen[0].ImagePaths);
        Assert.Contains("<image>\n何色?", model.Seen[0].Text);
    }

    [Fact]
    public void KeyWordExactMatchIsCountedAfterTheGate()
    {
        string path = Data(
            """{"image": "img/a.png", "question": "ねこは何匹ですか?", "answers": ["3匹です。"], "key": "3匹"}""",
            """{"image": "img/a.png", "question": "何色ですか?", "answers": ["赤です。"], "key": "赤"}""",
            """{"image": "img/a.png", "question": "何匹?", "answers": ["1匹です。"], "key": "1"}""",
            """{"image": "img/a.png", "question": "何色?", "answers": ["赤です。"], "key": "赤"}""");
        var task = new VqaTask("vqa", VqaData.Load(path), new PromptTemplate(VqaTask.JapanesePreset), new CharacterTokenizer(), new LanguageGate("ja"));
        // Hand-judged: a hit; a wrong colour; "10匹" does not begin with the count 1 (a digit follows); "red" fails the gate.
        var result = task.Evaluate(new Scripted(" 3匹です。", "青です。", "10匹です。", "red"));
        Assert.Equal([true, false, false, false], result.Items.Select(i => i.AnswerCorrect!.Value));
        Assert.Equal(0.25, result.Metrics.Single(m => m.Name == "key_match").Value, 12);
        // "青です。" vs "赤です。": char tokens 青,で,す vs 赤,で,す (punctuation dropped) → LCS 2 → F1 2/3.
        Assert.Equal(200.0 / 3, result.Items[1].Score!.Value, 9);
        Assert.True(VqaTask.KeyMatches("黄色です。", "黄色"));
        Assert.False(VqaTask.KeyMatches("です。黄色", "黄色"));
    }

    [Fact]
    public void WithoutKeysThereIsNoKeyMetric()
    {
        string path = Data("""{"image": "img/a.png", "question": "q", "answers": ["x"]}""");
        var task = new VqaTask("vqa", VqaData.Load(path), new PromptTemplate(VqaTask.DefaultTemplate), new CharacterTokenizer(), null);
        var result = task.Evaluate(new Scripted("x"));
        Assert.DoesNotContain(result.Metrics, m => m.Name == "key_match");
        Assert.Null(result.Items[0].AnswerCorrect);
    }

    [Fact]
    public void MissingFieldNamesLineAndField()
    {
        string path = Data("""{"image": "img/a.png", "answers": ["x"]}""");
        var e = Assert.Throws<EvoMergeException>(() => VqaData.Load(path));
        Assert.StartsWith($"{path} line 1: missing field 'question'", e.Message);
    }

    [Fact]
    public void MissingImageNamesLineAndImage()
    {
        string path = Data("""{"image": "img/b.png", "question": "q", "answers": ["x"]}""");
        var e = Assert.Throws<EvoMergeException>(() => VqaData.Load(path));
        Assert.StartsWith($"{path} line 1: image 'img/b.png' not found", e.Message);
    }

    [Fact]
    public void ImageOutsideTheDataFolderIsRefused()
    {
        string path = Data("""{"image": "../etc/passwd", "question": "q", "answers": ["x"]}""");
        var e = Assert.Throws<EvoMergeException>(() => VqaData.Load(path));
        Assert.Contains("must be a path inside the data file's folder", e.Message);
    }

    [Fact]
    public void TextOnlyModelAnswersBlindWithoutTheImageMark()
    {
        string path = Data("""{"image": "img/a.png", "question": "何色?", "answers": ["赤い"]}""");
        var task = new VqaTask("vqa", VqaData.Load(path), new PromptTemplate(VqaTask.DefaultTemplate), new CharacterTokenizer(), null);
        var model = new TextOnly();
        var result = task.Evaluate(model);
        Assert.Equal(["何色?\nAnswer:"], model.Seen);
        // "赤" vs "赤い": LCS 1, P = 1, R = 1/2 → F1 2/3, ×100.
        Assert.Equal(200.0 / 3, result.Items[0].Score!.Value, 9);
    }

    sealed class TextOnly : ILanguageModel
    {
        public List<string> Seen { get; } = [];

        public IReadOnlyList<string> Generate(IReadOnlyList<string> prompts, GenerationOptions options)
        {
            Seen.AddRange(prompts);
            return prompts.Select(_ => "赤").ToArray();
        }

        public IReadOnlyList<ContinuationScore> ScoreContinuations(IReadOnlyList<ContinuationRequest> requests) => throw new NotSupportedException();
    }
}
