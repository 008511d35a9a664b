using System.Text.Json;
using System.Text.Json.Nodes;

namespace EvoMerge.Tests.Merge;

/// <summary>
/// <c>tokenizer_source: union</c> by token string: order (base, others' normal tokens, then added tokens), each
/// model's rows found by token, missing rows by mergekit's rule (base row, the one model that has it, the mean),
/// <c>tokens:</c> overrides, and the written tokenizer. Expectations are worked out here from the inputs.
/// </summary>
public class TokenizerUnionTests : IDisposable
{
    readonly RecipeRunner _run = new();
    const int H = TestModels.Hidden;

    public void Dispose() => _run.Dispose();

    static void WriteTokenizer(TestModels.Generated model, IEnumerable<(string Token, int Id)> vocab, IEnumerable<(string Token, int Id)> added)
    {
        var json = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray([.. added.Select(a => (JsonNode)new JsonObject { ["id"] = a.Id, ["content"] = a.Token, ["special"] = true })]),
            ["model"] = new JsonObject { ["type"] = "BPE", ["vocab"] = new JsonObject(vocab.Select(v => KeyValuePair.Create(v.Token, (JsonNode?)v.Id))), ["merges"] = new JsonArray() },
        };
        File.WriteAllText(Path.Combine(model.Path, "tokenizer.json"), json.ToJsonString());
    }

    static IEnumerable<(string, int)> A(int n) => Enumerable.Range(0, n).Select(i => ($"a{i}", i));

    (TestModels.Generated B, TestModels.Generated X, TestModels.Generated Y) Models()
    {
        var b = TestModels.Write(_run.Root, "base", 1, vocab: 32);
        var x = TestModels.Write(_run.Root, "x", 2, vocab: 34, related: b);
        var y = TestModels.Write(_run.Root, "y", 3, vocab: 32, related: b);
        WriteTokenizer(b, A(30), [("<s>", 30), ("</s>", 31)]);
        // x: a0 and a1 swapped (rows are found by token, not id), two new tokens, <s> moved, a new special token.
        WriteTokenizer(x, A(30).Select(t => t.Item2 < 2 ? (t.Item1, 1 - t.Item2) : t).Append(("x0", 30)).Append(("x1", 31)), [("<s>", 32), ("<|im_start|>", 33)]);
        WriteTokenizer(y, A(30).Append(("y0", 30)).Append(("x0", 31)), []);
        return (b, x, y);
    }

    static float[] Row(TestModels.Generated m, string tensor, int row) => m.Weights.Get(tensor).AsSpan(row * H, H).ToArray();

    static float[] Mean(params float[][] rows) => Enumerable.Range(0, H).Select(c => rows.Average(r => r[c])).Select(v => (float)v).ToArray();

    const string Recipe = """
        merge_method: task_arithmetic
        base_model: {root}/base
        models:
          - model: {root}/x
            parameters: {weight: 1}
          - model: {root}/y
            parameters: {weight: 1}
        tokenizer:
          source: union
        dtype: float32
        """;

    [Fact]
    public void Union_orders_tokens_maps_rows_by_token_and_fills_by_mergekits_rule()
    {
        var (b, x, y) = Models();
        string output = _run.Merge(Recipe);
        var (model, t) = TestModels.Read(output);
        using (model)
        {
            // base's 32 tokens, then x's normal x0 x1, then y's y0, then the added <|im_start|>: 36.
            Assert.Equal(36, model.Config!.VocabSize);
            foreach (string tensor in new[] { "model.embed_tokens.weight", "lm_head.weight" })
            {
                // (token, base row, x row, y row) after filling.
                var rows = new List<(string, float[], float[], float[])>
                {
                    ("a0", Row(b, tensor, 0), Row(x, tensor, 1), Row(y, tensor, 0)),
                    ("a1", Row(b, tensor, 1), Row(x, tensor, 0), Row(y, tensor, 1)),
                    ("a7", Row(b, tensor, 7), Row(x, tensor, 7), Row(y, tensor, 7)),
                    ("<s>", Row(b, tensor, 30), Row(x, tensor, 32), Row(b, tensor, 30)),       // y lacks it: the base's row
                    ("</s>", Row(b, tensor, 31), Row(b, tensor, 31), Row(b, tensor, 31)),     // only the base has it
                    ("x0", Mean(Row(x, tensor, 30), Row(y, tensor, 31)), Row(x, tensor, 30), Row(y, tensor, 31)), // base lacks, two have: mean
                    ("x1", Row(x, tensor, 31), Row(x, tensor, 31), Row(x, tensor, 31)),       // the one model that has it
                    ("y0", Row(y, tensor, 30), Row(y, tensor, 30), Row(y, tensor, 30)),
                    ("<|im_start|>", Row(x, tensor, 33), Row(x, tensor, 33), Row(x, tensor, 33)),
                };
                int[] outIds = [0, 1, 7, 30, 31, 32, 33, 34, 35];
                for (int k = 0; k < rows.Count; k++)
                {
                    var (token, rb, rx, ry) = rows[k];
                    for (int c = 0; c < H; c++)
                    {
                        double expected = rb[c] + (rx[c] - rb[c]) + (ry[c] - rb[c]);
                        Assert.True(Math.Abs(expected - t[tensor][outIds[k] * H + c]) < 1e-5, $"{tensor} {token}[{c}]: expected {expected}, got {t[tensor][outIds[k] * H + c]}");
                    }
                }
            }
        }
        var tokenizer = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "tokenizer.json")))!;
        var vocab = tokenizer["model"]!["vocab"]!.AsObject();
        Assert.Equal([32, 33, 34], new[] { "x0", "x1", "y0" }.Select(tok => (int)vocab[tok]!));
        Assert.Equal(0, (int)vocab["a0"]!);
        Assert.Contains(tokenizer["added_tokens"]!.AsArray(), a => (string?)a!["content"] == "<|im_start|>" && (int)a["id"]! == 35);
    }

    [Fact]
    public void Token_overrides_take_rows_from_a_models_token_or_force_zeros()
    {
        var (b, x, y) = Models();
        var (model, t) = TestModels.Read(_run.Merge(Recipe.Replace("  source: union", """
              source: union
              tokens:
                <|im_start|>:
                  source: {kind: zero}
                  force: true
                y0:
                  source: {kind: model_token, model: {root}/x, token: a0}
            """.TrimEnd())));
        using (model)
        {
            const string tensor = "model.embed_tokens.weight";
            Assert.All(t[tensor].AsSpan(35 * H, H).ToArray(), v => Assert.Equal(0f, v));
            // y0: base and x lack it and take x's row of a0 (x id 1); y has its own.
            float[] fill = Row(x, tensor, 1), own = Row(y, tensor, 30);
            for (int c = 0; c < H; c++)
                Assert.True(Math.Abs(fill[c] + (fill[c] - fill[c]) + (own[c] - fill[c]) - t[tensor][34 * H + c]) < 1e-5, $"y0[{c}]");
        }
        var e = Assert.Throws<EvoMergeException>(() => _run.Plan(Recipe.Replace("  source: union", "  source: union\n  tokens:\n    nope: {source: {kind: zero}}")).Dispose());
        Assert.Contains("tokenizer.tokens: 'nope' is in no model's vocabulary", e.Message);
    }
}
