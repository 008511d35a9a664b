using EvoMerge.Torch.Generation;
using EvoMerge.Torch.Model;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Tests.Runtime;

/// <summary>
/// Beam search and the repetition penalty on a bigram table (the next token's logits depend on the last token only),
/// against sequences worked out by hand from the rules in <see cref="BeamSearch"/> and <see cref="RepetitionPenalty"/>.
/// Tokens: 0 BOS, 1 "a", 2 "b", 3 EOS.
/// </summary>
public class BeamSearchTests
{
    /// <summary>Logits of the next token given the last one.</summary>
    sealed class Bigram(double[][] logits) : ICausalLM
    {
        public LlamaConfig Config { get; } = new() { VocabSize = 4, HiddenSize = 4, IntermediateSize = 4, NumHeads = 1, NumKvHeads = 1, NumLayers = 0 };
        public Device Device => CPU;
        public ScalarType DType => ScalarType.Float32;

        public Tensor Forward(Tensor inputIds, KvCache? cache = null, Tensor? isToken = null, bool lastOnly = false)
        {
            var last = inputIds[.., -1].data<long>().ToArray();
            var values = last.SelectMany(t => logits[t].Select(v => (float)v)).ToArray();
            return tensor(values, [last.Length, 1L, 4]);
        }

        public KvCache NewCache(long batch, int capacity) => new(0, batch, capacity, Config, ScalarType.Float32, CPU);
    }

    static double[] Probabilities(params double[] p) => p.Select(x => x == 0 ? -1e9 : Math.Log(x)).ToArray();

    [Fact]
    public void Beam_search_prefers_a_short_likely_answer_and_handles_a_padded_batch()
    {
        var model = new Bigram([
            Probabilities(0, .5, .4, .1),
            Probabilities(0, .3, .3, .4),
            Probabilities(0, .05, .05, .9),
            Probabilities(1, 0, 0, 0),
        ]);
        // From BOS: beams a (log .5), b (log .4). Next: b→EOS log .36 (rank 0 → hypothesis "b", length 1),
        // a→EOS log .2 (rank 1 → hypothesis "a"), a→a and a→b log .15 continue. Two hypotheses, worst log .2 = −1.61
        // ≥ best live log .15 / 1 = −1.90: done. Best "b". Greedy takes a (.5) then EOS (.4): "a".
        // The second prompt ends in b: EOS (log .9) is the best hypothesis at once, an empty answer.
        var beams = TokenGenerator.Generate(model, [[0], [0, 2]], new SamplingOptions(MaxNewTokens: 6, NumBeams: 2), eosId: 3);
        Assert.Equal([2], beams[0]);
        Assert.Empty(beams[1]);
        Assert.Equal([1], TokenGenerator.Generate(model, [[0]], new SamplingOptions(MaxNewTokens: 6), eosId: 3)[0]);
    }

    [Fact]
    public void Repetition_penalty_divides_positive_and_multiplies_negative_logits_of_seen_tokens()
    {
        var model = new Bigram([
            [-9, 1.0, 0.5, -2],
            [-9, 2.0, 1.5, -1],     // a after a: 2.0 / 1.5 = 1.33 < b's 1.5 once a was seen
            [-9, 0.2, 1.2, 0.9],    // b after b: 1.2 / 1.5 = 0.8 < EOS 0.9 once b was seen
            [0, 0, 0, 0],
        ]);
        Assert.Equal([1, 1, 1, 1], TokenGenerator.Generate(model, [[0]], new SamplingOptions(MaxNewTokens: 4), eosId: 3)[0]);
        Assert.Equal([1, 2], TokenGenerator.Generate(model, [[0]], new SamplingOptions(MaxNewTokens: 4, RepetitionPenalty: 1.5f), eosId: 3)[0]);
        Span<double> scores = [-2.0, 3.0, 0.5, -1.0];
        RepetitionPenalty.Apply(scores, [0, 1, 1], 1.5f);
        Assert.Equal([-3.0, 2.0, 0.5, -1.0], scores.ToArray());
    }

    [Fact]
    public void On_a_real_model_a_padded_batch_gives_what_each_prompt_gives_alone()
    {
        // The KV cache is widened to beams and reordered every step: a row mix-up would change the answers.
        var config = TinyModels.Config(layers: 2);
        using var model = TinyModels.Random(config, seed: 5);
        int[][] prompts = [[1, 7, 9, 4, 12, 3], [1, 30, 2], [1, 5, 5, 8]];
        var options = new SamplingOptions(MaxNewTokens: 7, NumBeams: 4, RepetitionPenalty: 1.5f);
        var batched = TokenGenerator.Generate(model, prompts, options, eosId: 2);
        for (int i = 0; i < prompts.Length; i++)
            Assert.Equal(TokenGenerator.Generate(model, [prompts[i]], options, eosId: 2)[0], batched[i]);
        Assert.Contains(batched, b => b.Count > 0);
    }

    [Fact]
    public void Bad_settings_are_one_line_errors()
    {
        var model = new Bigram([[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]);
        Assert.Contains("num beams 0", Assert.Throws<EvoMergeException>(() => TokenGenerator.Generate(model, [[0]], new SamplingOptions(NumBeams: 0), 3)).Message);
        Assert.Contains("repetition penalty 0", Assert.Throws<EvoMergeException>(() => TokenGenerator.Generate(model, [[0]], new SamplingOptions(RepetitionPenalty: 0), 3)).Message);
        Assert.Contains("set the temperature to 0", Assert.Throws<EvoMergeException>(() => TokenGenerator.Generate(model, [[0]], new SamplingOptions(Temperature: 1, NumBeams: 2), 3)).Message);
    }
}
