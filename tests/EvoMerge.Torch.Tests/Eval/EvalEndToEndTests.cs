using System.Text.Json;
using EvoMerge.Cli.Commands;
using EvoMerge.Cli.Eval;
using EvoMerge.TestSupport;
using EvoMerge.Torch.Import;
using Spectre.Console;

namespace EvoMerge.Torch.Tests.Eval;

/// <summary>
/// <c>evomerge eval</c> on a real model: stories260K imported from ../shared/data, loaded by the runtime. The
/// gold answers come from karpathy's published greedy sample of this model ("…a little girl named Lily. She loved
/// to play outside in the park."), not from our own output.
/// </summary>
public sealed class EvalEndToEndTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("evomerge-evale2e-").FullName;
    string ModelDir => Path.Combine(_folder, "stories260k");

    public void Dispose() => Directory.Delete(_folder, true);

    JsonElement Eval(EvalCommand.Settings settings)
    {
        if (!Directory.Exists(ModelDir))
            Llama2cImporter.Import(SharedData.PathOf("models/stories260k/stories260K.bin"), SharedData.PathOf("models/stories260k/tok512.bin"), ModelDir);
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Interactive = InteractionSupport.No });
        Assert.Equal(0, EvalRun.Execute(settings, ModelOpener.Open, console, default));
        return JsonDocument.Parse(output.ToString()).RootElement;
    }

    string Write(string name, params string[] lines)
    {
        string path = Path.Combine(_folder, name);
        File.WriteAllLines(path, lines);
        return path;
    }

    [SharedDataFact("models/stories260k/stories260K.bin")]
    public void GenerationTaskScoresThePublishedContinuations()
    {
        string data = Write("story.jsonl",
            """{"start": "Once upon a time, there was a little girl named", "answer": "Lily"}""",
            """{"start": "Once upon a time, there was a little girl named Lily. She loved to play outside in the", "answer": "park"}""",
            """{"start": "Once upon a time, there was a little girl named", "answer": "Tom"}""");
        string items = Path.Combine(_folder, "items.jsonl");
        var result = Eval(new EvalCommand.Settings
        {
            Model = ModelDir, Task = "jsonl", Data = data, Template = "{start}", Match = "regex", Regex = @"^\s*(\w+)",
            MaxNewTokens = 4, DType = "f32", BatchSize = 3, Out = items, Json = true,
        });
        Assert.Equal(2.0 / 3, result.GetProperty("metrics").GetProperty("acc").GetProperty("value").GetDouble(), 12);
        var lines = File.ReadAllLines(items).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(["Lily", "park", "Lily"], lines.Select(l => l.GetProperty("extracted").GetString()));
    }

    [SharedDataFact("models/stories260k/stories260K.bin")]
    public void ChoiceAndPerplexityTasksRunOnTheRealModel()
    {
        string choices = Write("choice.jsonl",
            """{"question": "Once upon a time, there was a little girl named", "choices": ["Lily", "Xylophone"], "label": 0}""",
            """{"question": "She loved to play outside in the", "choices": ["refrigerator", "park"], "label": 1}""");
        var choice = Eval(new EvalCommand.Settings { Model = ModelDir, Task = "jsonl", Data = choices, Template = "{question}", Match = "choice", DType = "f32", Json = true });
        Assert.Equal(1.0, choice.GetProperty("metrics").GetProperty("acc").GetProperty("value").GetDouble());

        // The model's own published sample must be far more predictable to it than the same words in reverse order.
        string sample = Runtime.Stories260kGoldenTests.Published;
        string shuffled = string.Join(' ', sample.Split(' ').Reverse());
        double Perplexity(string text) => Eval(new EvalCommand.Settings
        {
            Model = ModelDir, Task = "perplexity", Data = Write($"text{text.Length}{text[0]}.txt", text), DType = "f32", Json = true,
        }).GetProperty("metrics").GetProperty("perplexity").GetProperty("value").GetDouble();
        double real = Perplexity(sample), scrambled = Perplexity(shuffled);
        output.WriteLine($"perplexity {real:F3} on the published sample, {scrambled:F3} with its words reversed");
        Assert.InRange(real, 1, 4);
        Assert.True(scrambled > 2 * real, $"perplexity {real:F2} on the sample vs {scrambled:F2} reversed");
    }
}
