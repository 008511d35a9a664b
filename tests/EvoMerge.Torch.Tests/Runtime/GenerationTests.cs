using EvoMerge.Torch.Generation;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Tests.Runtime;

public class GenerationTests
{
    [Fact]
    public void CachedStepsGiveTheLogitsOfTheFullForward()
    {
        var c = TinyModels.Config(layers: 2);
        using var m = TinyModels.Random(c, seed: 3);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var ids = TinyModels.Ids(9, 2, 10, c.VocabSize);
        var full = m.forward(ids);
        using var cache = m.NewCache(2, 10);
        var prefill = m.Forward(ids.narrow(1, 0, 6), cache);
        TinyModels.AssertClose(full.narrow(1, 0, 6), prefill);
        for (int t = 6; t < 10; t++)
            TinyModels.AssertClose(full.narrow(1, t, 1), m.Forward(ids.narrow(1, t, 1), cache));
    }

    [Fact]
    public void LeftPaddedBatchGeneratesWhatEachPromptGeneratesAlone()
    {
        var c = TinyModels.Config(layers: 2);
        using var m = TinyModels.Random(c, seed: 4);
        int[][] prompts = [[1, 8, 3, 44, 2, 9, 17], [1, 5], [1, 30, 31, 32]];
        var options = new SamplingOptions(MaxNewTokens: 8);
        var batched = TokenGenerator.Generate(m, prompts, options, eosId: null);
        for (int i = 0; i < prompts.Length; i++)
            Assert.Equal(TokenGenerator.Generate(m, [prompts[i]], options, eosId: null)[0], batched[i]);
    }

    [Fact]
    public void GenerationStopsAtEosAndAtMaxNewTokens()
    {
        var c = TinyModels.Config();
        using var m = TinyModels.Random(c, seed: 4);
        var free = TokenGenerator.Generate(m, [[1, 8, 3]], new SamplingOptions(MaxNewTokens: 6), eosId: null)[0];
        Assert.Equal(6, free.Count);
        // Declaring the third generated token the EOS ends the sequence before it.
        var stopped = TokenGenerator.Generate(m, [[1, 8, 3]], new SamplingOptions(MaxNewTokens: 6), eosId: free[2])[0];
        Assert.Equal(free.TakeWhile(t => t != free[2]), stopped);
    }

    [Fact]
    public void SamplingIsSeededAndTinyTopPIsGreedy()
    {
        var c = TinyModels.Config();
        using var m = TinyModels.Random(c, seed: 4);
        int[][] prompt = [[1, 8, 3]];
        var greedy = TokenGenerator.Generate(m, prompt, new SamplingOptions(MaxNewTokens: 12), null)[0];
        var hot = new SamplingOptions(MaxNewTokens: 12, Temperature: 1.5f, Seed: 7);
        Assert.Equal(TokenGenerator.Generate(m, prompt, hot, null)[0], TokenGenerator.Generate(m, prompt, hot, null)[0]);
        Assert.NotEqual(TokenGenerator.Generate(m, prompt, hot, null)[0], TokenGenerator.Generate(m, prompt, hot with { Seed = 8 }, null)[0]);
        // Nucleus of mass 1e-6 holds only the most likely token.
        Assert.Equal(greedy, TokenGenerator.Generate(m, prompt, hot with { TopP = 1e-6f }, null)[0]);
    }

    [Fact]
    public void LogLikelihoodSumsTheContinuationTokensLogProbabilities()
    {
        var c = TinyModels.Config();
        using var m = TinyModels.Random(c, seed: 5);
        int[] context = [1, 7, 22, 3], continuation = [40, 2, 11];
        var greedyContinuation = TokenGenerator.Generate(m, [context], new SamplingOptions(MaxNewTokens: 3), null)[0];
        var scores = LogLikelihood.Score(m, [new(context, continuation), new([1, 4], [9]), new(context, greedyContinuation)], batchSize: 2);

        // By hand: log-softmax of one unpadded forward, read at the position before each continuation token.
        using var scope = NewDisposeScope();
        var all = context.Concat(continuation).Select(i => (long)i).ToArray();
        var logProbs = nn.functional.log_softmax(m.forward(tensor(all, [1L, all.Length])), -1);
        double expected = Enumerable.Range(0, continuation.Length)
            .Sum(j => (double)logProbs[0, context.Length - 1 + j, continuation[j]].item<float>());
        Assert.Equal(expected, scores[0].LogLikelihood, 4);
        Assert.Equal(3, scores[0].TokenCount);
        Assert.True(scores[2].IsGreedy);
        Assert.True(scores[0].LogLikelihood < scores[2].LogLikelihood);
    }
}
