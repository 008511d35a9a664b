using EvoMerge.Demo;
using EvoMerge.Evaluation;
using EvoMerge.TestSupport;
using EvoMerge.Torch.Generation;
using EvoMerge.Torch.Model;
using EvoMerge.Torch.Runtime;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Tests.Runtime;

/// <summary>
/// Continuous batching must give every item exactly the tokens the fixed-batch engine gives it alone: that
/// reference decodes one prompt with no padding, no shared prefix and no neighbours, so wrong RoPE positions,
/// masks, refills or prefix reuse change its greedy tokens.
/// </summary>
public class ContinuousBatchingTests
{
    /// <summary>40 prompts sharing a 12-token instruction, with remainders of 1–9 tokens; each item stops after its own
    /// number of tokens (as a stop string would), from 1 to 45.</summary>
    static (int[][] Prompts, int[] Stops) Workload(int vocab, int items, int seed, bool sharedPrefix = true)
    {
        var rng = new Random(seed);
        var instruction = Enumerable.Range(0, 12).Select(_ => rng.Next(3, vocab)).ToArray();
        var prompts = Enumerable.Range(0, items).Select(_ =>
            new[] { 1 }.Concat(sharedPrefix ? instruction : []).Concat(Enumerable.Range(0, rng.Next(1, 10)).Select(_ => rng.Next(3, vocab))).ToArray()).ToArray();
        var stops = Enumerable.Range(0, items).Select(_ => rng.Next(1, 46)).ToArray();
        return (prompts, stops);
    }

    static IReadOnlyList<int>[] Alone(ICausalLM m, int[][] prompts, int[] stops, SamplingOptions options, int? eos) =>
        prompts.Select((p, i) => TokenGenerator.Generate(m, [p], options, eos, (_, ids) => ids.Count >= stops[i])[0]).ToArray();

    [Fact]
    public void EveryItemGetsTheTokensItGetsAloneAtAnyBatchSize()
    {
        var c = TinyModels.Config(layers: 2, kvHeads: 2);
        using var m = TinyModels.Random(c, seed: 11);
        var (prompts, stops) = Workload(c.VocabSize, items: 30, seed: 5);
        var options = new SamplingOptions(MaxNewTokens: 40);
        // An end token the model does emit, so that some items end on it rather than on their stop or the limit.
        int eos = TokenGenerator.Generate(m, [prompts[0]], options, null)[0][5];
        var expected = Alone(m, prompts, stops, options, eos);
        foreach (int slots in new[] { 1, 4, 16 })
        {
            var actual = ContinuousBatching.Generate(m, prompts, options, eos, (i, ids) => ids.Count >= stops[i], slots);
            for (int i = 0; i < prompts.Length; i++) Assert.Equal(expected[i], actual[i]);
        }
        // The workload does what it claims: replies of many lengths, some ended by the end token before their stop.
        Assert.True(expected.Select(e => e.Count).Distinct().Count() >= 10);
        Assert.Contains(expected.Select((e, i) => (e, i)), x => x.e.Count < Math.Min(stops[x.i], 40));
        Assert.True(ContinuousBatching.SharedPrefix(prompts) >= 13);
    }

    [Fact]
    public void WithoutASharedPrefixAndWithRepetitionPenaltyAndEqualHeads()
    {
        var c = TinyModels.Config(layers: 3, kvHeads: 4, bias: true);
        using var m = TinyModels.Random(c, seed: 12);
        var (prompts, stops) = Workload(c.VocabSize, items: 24, seed: 6, sharedPrefix: false);
        var options = new SamplingOptions(MaxNewTokens: 30, RepetitionPenalty: 1.3f);
        var expected = Alone(m, prompts, stops, options, null);
        var actual = ContinuousBatching.Generate(m, prompts, options, null, (i, ids) => ids.Count >= stops[i], 5);
        for (int i = 0; i < prompts.Length; i++) Assert.Equal(expected[i], actual[i]);
    }

    [Fact]
    public void LayerPathModelsBatchContinuouslyToo()
    {
        var c = TinyModels.Config(layers: 2);
        using var a = TinyModels.Random(c, seed: 13);
        using var b = TinyModels.Random(c, seed: 14);
        var path = new LayerPathModel([a, b], 0, [new(0, 0), new(1, 1, 0.8), new(0, 1), new(0, 1, 1.1)]);
        var (prompts, stops) = Workload(c.VocabSize, items: 12, seed: 7);
        var options = new SamplingOptions(MaxNewTokens: 20);
        var expected = Alone(path, prompts, stops, options, null);
        var actual = ContinuousBatching.Generate(path, prompts, options, null, (i, ids) => ids.Count >= stops[i], 4);
        for (int i = 0; i < prompts.Length; i++) Assert.Equal(expected[i], actual[i]);
    }

    [Fact]
    public void RowsOfDifferentLengthsDecodeAsEachSequenceAlone()
    {
        // The cache level: two sequences moved into a shared cache at different lengths, then stepped together,
        // give the logits of each one's own full forward.
        var c = TinyModels.Config(layers: 2);
        using var m = TinyModels.Random(c, seed: 15);
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        long[] x = [1, 5, 9, 2, 7, 30, 31], y = [1, 44, 3];
        using var shared = m.NewCache(2, 12);
        foreach (var (seq, row) in new[] { (x, 0L), (y, 1L) })
        {
            using var own = m.NewCache(1, seq.Length - 2);
            m.Forward(tensor(seq[..^2], [1L, seq.Length - 2]), own);
            shared.LoadRows(own, [0], [row]);
        }
        Assert.Equal(5, shared.RowLength(0));
        Assert.Equal(1, shared.RowLength(1));
        for (int step = 0; step < 2; step++)
        {
            var logits = m.Forward(tensor(new[] { x[x.Length - 2 + step], y[y.Length - 2 + step] }, [2L, 1L]), shared);
            TinyModels.AssertClose(m.forward(tensor(x[..(x.Length - 1 + step)], [1L, x.Length - 1 + step])).narrow(1, x.Length - 2 + step, 1), logits.narrow(0, 0, 1));
            TinyModels.AssertClose(m.forward(tensor(y[..(y.Length - 1 + step)], [1L, y.Length - 1 + step])).narrow(1, y.Length - 2 + step, 1), logits.narrow(0, 1, 1));
        }
    }

    [Fact]
    public void DemoModelAnswersMgsmStylePromptsAsTheFixedBatchEngine()
    {
        // The shipped demo math model, a two-shot Japanese prompt before each dev question (as the paper's MGSM
        // prompt repeats its instruction), stop at the end of the line or after 40 characters; then without the stop
        // string, where replies run on past the answer: a longer, varied workload.
        using var loaded = LoadedModel.Load(Path.Combine(SharedData.RepoRoot, "demo", "models", "math"));
        var dev = DemoSplits.Create(2024).JaMathDev;
        string shots = string.Concat(dev.Take(2).Select(p => p.JaPrompt + p.JaAnswer + "\n"));
        var prompts = dev.Skip(2).Take(16).Select(p => shots + p.JaPrompt).ToArray();
        foreach (var options in new[] { new GenerationOptions { MaxNewTokens = 40, StopStrings = ["\n"] }, new GenerationOptions { MaxNewTokens = 50 } })
        {
            var before = new TorchLanguageModel(loaded.Model, loaded.Tokenizer, 1, continuousBatching: false).Generate(prompts, options);
            Assert.Contains(before, a => a.Length > 0);
            foreach (int batch in new[] { 1, 4, 16 })
                Assert.Equal(before, new TorchLanguageModel(loaded.Model, loaded.Tokenizer, batch).Generate(prompts, options));
        }
    }
}
