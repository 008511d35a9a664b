using static TorchSharp.torch;

namespace EvoMerge.Torch.Model;

/// <summary>
/// Keys and values of every attention step already run, for a batch of sequences, plus each sequence's next
/// position. One slot per step of the forward: a layer index for a plain model, a path step for a layer path
/// (so a layer that appears twice on a path has two slots). Storage is allocated once, at full capacity.
/// </summary>
public sealed class KvCache : IDisposable
{
    readonly Tensor?[] keys, values;
    readonly Tensor keyIsToken;      // [batch, capacity] false where a position holds left padding
    readonly Tensor nextPosition;    // [batch] RoPE position of each sequence's next real token
    readonly long batch, kvHeads, headDim;
    readonly ScalarType dtype;
    readonly Device device;

    public KvCache(int slots, long batch, int capacity, LlamaConfig config, ScalarType dtype, Device device)
        : this(slots, batch, capacity, config.NumKvHeads, config.HeadDim, dtype, device)
    {
    }

    public int Capacity { get; }

    /// <summary>Positions already cached (padding included); the same for every sequence of the batch.</summary>
    public int Length { get; private set; }

    /// <summary>Whether any cached or pending position is padding (then attention needs an explicit mask).</summary>
    public bool HasPadding { get; private set; }

    /// <summary>
    /// Starts a forward of <c>time</c> new positions; <paramref name="isToken"/> ([batch, time] bool, null = all real)
    /// marks padding. Returns the RoPE positions of the new tokens, counted per sequence over real tokens only.
    /// </summary>
    internal Tensor Begin(long time, Tensor? isToken)
    {
        if (Length + time > Capacity)
            throw new EvoMergeException($"KV cache: {Length} + {time} positions exceed its capacity of {Capacity} (raise max new tokens or the context limit)");
        using var scope = NewDisposeScope();
        Tensor positions;
        if (isToken is null)
        {
            positions = nextPosition.unsqueeze(1) + arange(time, device: device).unsqueeze(0);
            nextPosition.add_(time);
        }
        else
        {
            HasPadding |= !isToken.all().item<bool>();
            keyIsToken.narrow(1, Length, time).copy_(isToken);
            var counts = isToken.to_type(ScalarType.Int64).cumsum(1);
            positions = (nextPosition.unsqueeze(1) + counts - 1).clamp_min(0);
            nextPosition.add_(counts[.., ^1]);
        }
        return positions.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The attention mask for the pending positions over every cached one ([batch, 1, time, length+time], true =
    /// attend), or null when plain causal attention (or none, for one new token) is exact.
    /// A padding query attends to itself so its row is never empty (an empty row would put NaN in the cache).
    /// </summary>
    internal Tensor? Mask(long time)
    {
        if (!HasPadding && (Length == 0 || time == 1)) return null;
        using var scope = NewDisposeScope();
        long total = Length + time;
        var q = arange(Length, total, device: device).unsqueeze(1);
        var k = arange(0, total, device: device).unsqueeze(0);
        var mask = (keyIsToken.narrow(1, 0, total).unsqueeze(1) | (k == q).unsqueeze(0)) & (k <= q).unsqueeze(0);
        return mask.unsqueeze(1).MoveToOuterDisposeScope();
    }

    /// <summary>True when <see cref="Mask"/> returned null and attention must still be causal (a prefill).</summary>
    internal bool CausalWithoutMask(long time) => !HasPadding && Length == 0 && time > 1;

    /// <summary>Writes the new keys/values of one slot and returns views of everything cached in it.</summary>
    internal (Tensor Keys, Tensor Values) Append(int slot, Tensor k, Tensor v)
    {
        keys[slot] ??= zeros(new[] { batch, kvHeads, Capacity, headDim }, dtype, device).DetachFromDisposeScope();
        values[slot] ??= zeros(new[] { batch, kvHeads, Capacity, headDim }, dtype, device).DetachFromDisposeScope();
        long time = k.shape[2];
        keys[slot]!.narrow(2, Length, time).copy_(k);
        values[slot]!.narrow(2, Length, time).copy_(v);
        return (keys[slot]!.narrow(2, 0, Length + time), values[slot]!.narrow(2, 0, Length + time));
    }

    /// <summary>
    /// A new cache holding sequences <paramref name="rows"/> of this one, in that order (a row may repeat): beam
    /// search widens each prompt to its beams and reorders the beams after every step.
    /// </summary>
    public KvCache Select(long[] rows)
    {
        var copy = new KvCache(keys.Length, rows.Length, Capacity, kvHeads, headDim, dtype, device) { Length = Length, HasPadding = HasPadding };
        using var scope = NewDisposeScope();
        var index = tensor(rows, device: device);
        for (int slot = 0; slot < keys.Length; slot++)
        {
            copy.keys[slot] = keys[slot]?.index_select(0, index).DetachFromDisposeScope();
            copy.values[slot] = values[slot]?.index_select(0, index).DetachFromDisposeScope();
        }
        copy.keyIsToken.copy_(keyIsToken.index_select(0, index));
        copy.nextPosition.copy_(nextPosition.index_select(0, index));
        return copy;
    }

    KvCache(int slots, long batch, int capacity, long kvHeads, long headDim, ScalarType dtype, Device device)
    {
        keys = new Tensor?[slots];
        values = new Tensor?[slots];
        this.batch = batch;
        Capacity = capacity;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.dtype = dtype;
        this.device = device;
        keyIsToken = ones(new[] { batch, (long)capacity }, ScalarType.Bool, device).DetachFromDisposeScope();
        nextPosition = zeros(new[] { batch }, ScalarType.Int64, device).DetachFromDisposeScope();
    }

    /// <summary>Ends a forward: the pending positions become cached.</summary>
    internal void Commit(long time) => Length += (int)time;

    public void Dispose()
    {
        foreach (var t in keys.Concat(values)) t?.Dispose();
        keyIsToken.Dispose();
        nextPosition.Dispose();
    }
}
