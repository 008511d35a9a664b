using static TorchSharp.torch;

namespace EvoMerge.Torch.Generation;

/// <summary>
/// Picks the next token of each sequence from its logits: argmax when the temperature is 0, otherwise a draw
/// from softmax(logits / T) restricted to the smallest set of tokens whose mass reaches top-p (nucleus).
/// Seeded, so a run is reproducible.
/// </summary>
public sealed class TokenSampler : IDisposable
{
    readonly float temperature, topP;
    readonly Generator? random;

    public TokenSampler(float temperature, float topP, int seed)
    {
        if (temperature < 0) throw new EvoMergeException($"temperature {temperature}: expected 0 (greedy) or more");
        if (topP is <= 0 or > 1) throw new EvoMergeException($"top-p {topP}: expected a value in (0, 1]");
        this.temperature = temperature;
        this.topP = topP;
        if (temperature > 0) random = new Generator((ulong)seed);
    }

    /// <param name="logits">[batch, vocab] on any device.</param>
    public long[] Next(Tensor logits)
    {
        using var scope = NewDisposeScope();
        var l = logits.to_type(ScalarType.Float32).cpu();
        if (random is null) return l.argmax(-1).data<long>().ToArray();

        var probs = nn.functional.softmax(l / temperature, -1);
        var (sorted, order) = probs.sort(-1, descending: true);
        if (topP < 1)
        {
            // Drop a token when the mass before it already reaches top-p; the first token always stays.
            var before = sorted.cumsum(-1) - sorted;
            sorted = sorted.masked_fill(before >= topP, 0);
        }
        var pick = multinomial(sorted, 1, generator: random);
        return order.gather(-1, pick).squeeze(-1).data<long>().ToArray();
    }

    public void Dispose() => random?.Dispose();
}
