using EvoMerge.Demo;
using EvoMerge.Evaluation;
using EvoMerge.Evolution;
using EvoMerge.Evolution.Config;

namespace EvoMerge.Demo.Tests;

/// <summary>The demo's tasks, built by the evaluation engine from the written files, mark replies as the issue says.</summary>
public class DemoTasksTests : IDisposable
{
    readonly DirectoryInfo dir = Directory.CreateTempSubdirectory("evomerge-demo-tasks");
    readonly IReadOnlyList<TaskConfig> test;

    public DemoTasksTests()
    {
        DemoTasks.WriteData(new MiniatureWorld().Splits, dir.FullName);
        test = DemoTasks.Test(dir.FullName);
    }

    public void Dispose() => dir.Delete(recursive: true);

    /// <summary>Answers every prompt with <c>reply(prompt)</c>; asserts the demo's generation settings.</summary>
    sealed class ScriptedModel(Func<string, string> reply) : ILanguageModel
    {
        public IReadOnlyList<string> Generate(IReadOnlyList<string> prompts, GenerationOptions options)
        {
            Assert.Equal(8, options.MaxNewTokens);
            return prompts.Select(reply).ToList();
        }

        public IReadOnlyList<ContinuationScore> ScoreContinuations(IReadOnlyList<ContinuationRequest> requests) =>
            throw new NotSupportedException();
    }

    // Built as the evolution engine builds them from the config.
    static double Score(TaskConfig task, Func<string, string> reply) =>
        EvalTasks.Create(TaskSpecs.ToSpec(task, new EvolutionConfig { Name = "t", Models = [], Fitness = [task] }))
            .Evaluate(new ScriptedModel(reply)).Primary.Value;

    // Reads the gold sum back out of the Japanese prompt (independent of the generator's fields).
    static (int Sum, string Counter) Gold(string prompt)
    {
        var m = System.Text.RegularExpressions.Regex.Match(prompt, @"を(\d+)(.)持っています。(?:.+から)?(\d+)");
        return (int.Parse(m.Groups[1].Value) + int.Parse(m.Groups[3].Value), m.Groups[2].Value);
    }

    [Fact]
    public void StrictNeedsTheNumberThenTheCounterNumberOnlyNeedsTheNumber()
    {
        var (strict, number) = (test[0], test[1]);
        string Right(string p) { var (s, c) = Gold(p); return $"{s}{c}です。"; }
        string WrongCounter(string p) { var (s, c) = Gold(p); return $"{s}{(c == "個" ? "本" : "個")}です。"; }
        string Bare(string p) => Gold(p).Sum.ToString();
        string Off(string p) { var (s, c) = Gold(p); return $"{s + 1}{c}です。"; }

        Assert.Equal(1.0, Score(strict, Right));
        Assert.Equal(1.0, Score(number, Right));
        Assert.Equal(0.0, Score(strict, WrongCounter));
        Assert.Equal(1.0, Score(number, WrongCounter));
        Assert.Equal(0.0, Score(strict, Bare));
        Assert.Equal(1.0, Score(number, Bare));
        Assert.Equal(0.0, Score(strict, Off));
        Assert.Equal(0.0, Score(number, Off));
        // Only the reply's first number counts, for both: digits the model rambles on to afterwards do not.
        Assert.Equal(1.0, Score(strict, p => Right(p) + "\n問: 1"));
        Assert.Equal(1.0, Score(number, p => Right(p) + "\n問: 1"));
        Assert.Equal(0.0, Score(number, p => "です。" + Gold(p).Sum));
        // Half right: every other item answered correctly.
        int k = 0;
        Assert.Equal(0.5, Score(strict, p => k++ % 2 == 0 ? Right(p) : Off(p)));
    }

    [Fact]
    public void EnglishMathIsTheNumberAndQaIsTheWholeAnswer()
    {
        var en = test[2];
        Assert.Equal(1.0, Score(en, p =>
        {
            var m = System.Text.RegularExpressions.Regex.Match(p, @"has (\d+) .* (\d+) more");
            return (int.Parse(m.Groups[1].Value) + int.Parse(m.Groups[2].Value)).ToString();
        }));
        var qa = test[3];
        Assert.Equal(0.0, Score(qa, _ => "3個"));
        var items = File.ReadAllLines(qa.Data).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
        var byPrompt = items.ToDictionary(e => e.GetProperty("prompt").GetString()!, e => e.GetProperty("answer").GetString()!);
        Assert.Equal(1.0, Score(qa, p => byPrompt[p]));
    }

    [Fact]
    public void FilesHoldTheSplitSizes()
    {
        Assert.Equal(300, File.ReadAllLines(DemoTasks.Fitness(dir.FullName).Data).Length);
        Assert.All(test, t => Assert.Equal(200, File.ReadAllLines(t.Data).Length));
        // A test task's data never appears in the fitness data.
        var dev = File.ReadAllLines(DemoTasks.Fitness(dir.FullName).Data).ToHashSet();
        Assert.All(test, t => Assert.DoesNotContain(File.ReadAllLines(t.Data), dev.Contains));
    }

    [Fact]
    public void The_fitness_generates_just_enough_for_the_longest_strict_answer()
    {
        var fitness = DemoTasks.Fitness(dir.FullName);
        // The longest strict answer of the dev split, plus one optional leading space, fits the fitness's generation.
        int longest = File.ReadAllLines(fitness.Data).Max(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("strict").GetString()!.Length);
        Assert.Equal(3, longest);   // "20個": operands 1–10
        Assert.Equal(longest + 1, fitness.MaxNewTokens);
        Assert.Matches(DemoTasks.StrictPattern, " 20個");
        Assert.DoesNotMatch(DemoTasks.StrictPattern, " 20");
    }
}
