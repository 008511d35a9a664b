using EvoMerge.Evaluation;
using EvoMerge.Evaluation.Tasks;

namespace EvoMerge.Tests.Evaluation;

public class ChoiceTaskTests
{
    static ChoiceItem Item(string question, int label, params string[] choices) =>
        new(new Dictionary<string, string> { ["question"] = question }, choices, label, "test.jsonl");

    // Scripted log-likelihoods per continuation, chosen so that acc and acc_norm disagree on item 1.
    static readonly Dictionary<string, double> LogLikelihood = new()
    {
        [" 犬"] = -2.0, [" 猫"] = -3.0, [" ライオン"] = -9.0,          // item 0: raw picks 犬 (right); per char: 犬 -2, 猫 -3, ライオン -2.25 → 犬
        [" 赤"] = -3.0, [" 青い空"] = -6.0, [" 緑"] = -4.0,            // item 1: raw picks 赤; per char: 赤 -3, 青い空 -2 (right), 緑 -4 → 青い空
        [" yes"] = -1.0, [" no"] = -1.0,                               // item 2: a tie goes to the first choice (numpy's argmax)
    };

    static readonly ChoiceItem[] Items =
    [
        Item("動物は?", 0, "犬", "猫", "ライオン"),
        Item("空の色は?", 1, "赤", "青い空", "緑"),
        Item("Is it?", 1, "yes", "no"),
    ];

    [Fact]
    public void PicksTheMostLikelyChoiceRawAndLengthNormalised()
    {
        var model = new ScriptedModel(score: r => new ContinuationScore(LogLikelihood[r.Continuation], 1, false));
        var result = new ChoiceTask("qa", Items, new PromptTemplate("{question}\n答え:")).Evaluate(model, run: new EvalRunOptions(BatchSize: 2));

        Assert.Equal([true, false, false], result.Items.Select(i => i.Correct));
        Assert.Equal([true, true, false], result.Items.Select(i => i.CorrectNormalized == true));
        Assert.Equal(["犬", "赤", "yes"], result.Items.Select(i => i.Output));
        Assert.Equal(["0", "0", "0"], result.Items.Select(i => i.Extracted));
        Assert.Equal(["犬", "青い空", "no"], result.Items.Select(i => i.Gold));
        Assert.Equal([-3.0, -6.0, -4.0], result.Items[1].ChoiceLogLikelihoods!);
        Assert.Equal(1.0 / 3, result["acc"].Value, 12);
        Assert.Equal(2.0 / 3, result["acc_norm"].Value, 12);
        // Every choice of a batch's items goes to the model in one call, each after the rendered context.
        Assert.Equal(8, model.Requests.Count);
        Assert.Equal(new ContinuationRequest("空の色は?\n答え:", " 青い空"), model.Requests[4]);
    }
}
