using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Output;
using EvoMerge.Merge.Recipes;

namespace EvoMerge.Tests.Merge;

/// <summary>
/// Issue 10's recipe fuzz test: 1,000 mutations of the real-recipe suite's YAML (tokens swapped for hostile ones,
/// lines dropped, doubled, re-indented or swapped, anchors, aliases, deep nesting, document markers). Every case must
/// plan (and, every few, merge) or fail with <see cref="EvoMergeException"/>, each within 10 s. The whole test takes
/// a few seconds; a hang or any other exception fails it with the mutant's text.
/// </summary>
public class RecipeFuzzTests : IDisposable
{
    readonly RecipeRunner _run = new();

    public RecipeFuzzTests()
    {
        var b = TestModels.Write(_run.Root, "base", 1, layers: 4);
        foreach (var (name, seed) in new[] { ("a", 2), ("b", 3), ("c", 4), ("x", 5), ("y", 6) })
            TestModels.Write(_run.Root, name, seed, layers: 4, related: b);
    }

    public void Dispose() => _run.Dispose();

    /// <summary>
    /// The suite's recipes (frankenmerge, gradient slerp with filters, filtered TIES, DARE-TIES, model_stock,
    /// task_arithmetic, nuslerp, glob filters, DELLA); the tokenizer-union one needs a model of another vocabulary.
    /// </summary>
    static readonly string[] Seeds = RecipeSuiteTests.All.Where(r => r != RecipeSuiteTests.TokenizerUnion).ToArray();

    static readonly string[] Hostile =
    [
        "-1", "0", "1e309", "-1e309", ".nan", ".inf", "nan", "2147483648", "9999999999999999999", "1e-320", "true", "~", "null",
        "\"\"", "''", "&a", "*a", "&a [*a]", "[", "]", "{", "}", "[[[[[[[[[[]]]]]]]]]]", ":", "- ", "? ", "!!binary AAAA", "!!python/object:os.system",
        "\"re:(\"", "\"re:((a+)+)+$\"", "\"re:^(([a-z0-9_]+\\\\.?)+)+[A-Z]$\"", "\"*\"", "\"?\"", "\"\\ud800\"", "\"\\x00\"", "|", ">", "---", "...",
        "{root}/missing", "{root}/a", "/dev/zero", "../../etc", "linear", "passthrough", "karcher", "[0, 2147483647]", "[5, 1]", "[0, 4, 8]",
        "{model: {model: {model: x}}}", "\t", "%YAML 1.1", "@", "`", "#", "union", "chatml", "garbage", "tokenizer_source: base",
    ];

    [Fact]
    public void Every_seed_plans_unmutated()
    {
        foreach (var seed in Seeds) _run.Plan(seed).Dispose();
    }

    [Fact]
    public void Every_mutated_recipe_plans_or_fails_with_EvoMergeException_in_bounded_time()
    {
        var random = new Random(20261203);
        int planned = 0, refused = 0, merged = 0;
        for (int i = 0; i < 1000; i++)
        {
            string mutant = Mutate(Seeds[random.Next(Seeds.Length)], random);
            bool merge = random.Next(8) == 0;
            string output = Path.Combine(_run.Root, $"out{i}");
            var (finished, error) = Bounded(() =>
            {
                using var plan = _run.Plan(mutant);
                if (merge) MergedModelWriter.Write(plan, output, new MergeOptions { Threads = 1 });
            });
            if (!finished) Assert.Fail($"mutant {i} did not finish within 10 s:\n{mutant}");
            switch (error)
            {
                case null: planned++; if (merge) merged++; break;
                case EvoMergeException: refused++; break;
                case var e: Assert.Fail($"mutant {i} threw {e}\n{mutant}"); break;
            }
        }
        // Both outcomes must be common, or the mutations test nothing.
        Assert.True(planned > 150 && refused > 300 && merged > 10, $"planned {planned} (merged {merged}), refused {refused}");
    }

    /// <summary>Runs <paramref name="action"/> on the thread pool: whether it ended within 10 s, and what it threw.</summary>
    internal static (bool Finished, Exception? Error) Bounded(Action action)
    {
        var task = Task.Run(action);
        bool finished = ((IAsyncResult)task).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(10));
        return (finished, task.Exception?.InnerException);
    }

    internal static string Mutate(string seed, Random random)
    {
        var lines = seed.Split('\n').ToList();
        for (int m = random.Next(3) == 0 ? 2 : 1; m > 0; m--)
        {
            int at = random.Next(lines.Count);
            switch (random.Next(11))
            {
                // Benign edits keep many mutants valid, so the merge path is fuzzed too.
                case 8: lines[at] = System.Text.RegularExpressions.Regex.Replace(lines[at], @"\b0\.\d+\b", _ => $"{random.Next(1, 10) / 10.0}"); break;
                case 9: lines[at] += "   # note"; break;
                case 10: lines.Insert(at, ""); break;
                case 0: lines[at] = ReplaceToken(lines[at], random); break;
                case 1: if (lines.Count > 1) lines.RemoveAt(at); break;
                case 2: lines.Insert(at, lines[at]); break;                                  // a duplicate key or entry
                case 3: lines[at] = new string(' ', random.Next(0, 9)) + lines[at].TrimStart(); break;
                case 4: int other = random.Next(lines.Count); (lines[at], lines[other]) = (lines[other], lines[at]); break;
                case 5: lines[at] = lines[at].Insert(random.Next(lines[at].Length + 1), Hostile[random.Next(Hostile.Length)]); break;
                case 6: lines.Insert(at, random.Next(3) switch { 0 => "---", 1 => "x: " + new string('[', 70) + new string(']', 70), _ => "- &a {model: *a}" }); break;
                case 7: lines[at] = ReplaceToken(ReplaceToken(lines[at], random), random); break;
            }
        }
        return string.Join('\n', lines);
    }

    /// <summary>Replaces one token of the line (a word, a number, a quoted string or a bracket) by a hostile one.</summary>
    static string ReplaceToken(string line, Random random)
    {
        var spans = new List<(int Start, int Length)>();
        for (int i = 0; i < line.Length;)
        {
            int j = i;
            if (char.IsLetterOrDigit(line[i]) || line[i] is '_' or '.' or '/' or '{') while (j < line.Length && !char.IsWhiteSpace(line[j]) && line[j] is not (',' or ':' or ']' or '[')) j++;
            else if (line[i] == '"') { j = line.IndexOf('"', i + 1); j = j < 0 ? line.Length : j + 1; }
            else if ("[]:-,".Contains(line[i])) j = i + 1;
            else { i++; continue; }
            spans.Add((i, j - i));
            i = j;
        }
        if (spans.Count == 0) return line;
        var (s, len) = spans[random.Next(spans.Count)];
        return line.Remove(s, len).Insert(s, Hostile[random.Next(Hostile.Length)]);
    }
}
