using static TorchSharp.torch;

namespace EvoMerge.Torch.Model;

/// <summary>
/// Keys and values of every attention step already run, for a batch of sequences, plus each sequence's next
/// position. One slot per step of the forward: a layer index for a plain model, a path step for a layer path
/// (so a layer that appears twice on a path has two slots). Storage is allocated once, at full capacity.
/// <para>
/// Each row (sequence) has its own write column: a plain batch moves all rows together, but continuous batching
/// (<see cref="Generation.ContinuousBatching"/>) loads a new sequence into a freed row (<see cref="LoadRows"/>)
/// while the others keep decoding, so rows hold different lengths. Columns a row has not written, or holds as
/// padding, are masked out of its attention.
/// </para>
/// </summary>
public sealed class KvCache : IDisposable
{
    readonly Tensor?[] keys, values;
    readonly Tensor keyIsToken;      // [batch, capacity] false where a position holds left padding
    readonly Tensor nextPosition;    // [batch] RoPE position of each sequence's next real token
    readonly long[] rowLength;       // columns written per row
    readonly long batch, kvHeads, headDim;
    readonly ScalarType dtype;
    readonly Device device;
    Tensor? writeIndex;              // pending step's per-row write columns, [batch, kvHeads, 1, headDim]; null = all rows at Length
    bool ragged;                     // rows hold different lengths

    public KvCache(int slots, long batch, int capacity, LlamaConfig config, ScalarType dtype, Device device)
        : this(slots, batch, capacity, config.NumKvHeads, config.HeadDim, dtype, device)
    {
    }

    public int Capacity { get; }

    public long Batch => batch;

    /// <summary>Positions cached in the longest row (padding included); every row's when the batch moves together.</summary>
    public int Length { get; private set; }

    /// <summary>Columns written in <paramref name="row"/> (padding included).</summary>
    public long RowLength(int row) => rowLength[row];

    /// <summary>Whether any cached or pending position is padding (then attention needs an explicit mask).</summary>
    public bool HasPadding { get; private set; }

    /// <summary>
    /// Starts a forward of <c>time</c> new positions; <paramref name="isToken"/> ([batch, time] bool, null = all real)
    /// marks padding. Returns the RoPE positions of the new tokens, counted per sequence over real tokens only.
    /// Rows of different lengths take one token each (a decode step), written at each row's own column.
    /// </summary>
    internal Tensor Begin(long time, Tensor? isToken)
    {
        if (ragged && (time != 1 || isToken is not null))
            throw new InvalidOperationException("rows of different lengths take one unpadded token per step");
        long longest = rowLength.Max();
        if (longest + time > Capacity)
            throw new EvoMergeException($"KV cache: {longest} + {time} positions exceed its capacity of {Capacity} (raise max new tokens or the context limit)");
        using var scope = NewDisposeScope();
        Tensor positions;
        if (isToken is null)
        {
            positions = nextPosition.unsqueeze(1) + arange(time, device: device).unsqueeze(0);
            nextPosition.add_(time);
            if (!ragged) keyIsToken.narrow(1, Length, time).fill_(true);
            else
            {
                // Each row writes its one new key at its own column; that column becomes a real token.
                var columns = tensor(rowLength, device: device);
                keyIsToken.scatter_(1, columns.unsqueeze(1), ones(new[] { batch, 1L }, ScalarType.Bool, device));
                writeIndex = columns.view(batch, 1, 1, 1).expand(batch, kvHeads, 1, headDim).contiguous().DetachFromDisposeScope();
            }
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
        using var scope = NewDisposeScope();
        if (ragged)
        {
            // One query per row at its own column: it sees that row's real tokens up to and including itself.
            var seen = arange(Length + 1, device: device).unsqueeze(0) <= tensor(rowLength, device: device).unsqueeze(1);
            return (keyIsToken.narrow(1, 0, Length + 1) & seen).view(batch, 1, 1, Length + 1).MoveToOuterDisposeScope();
        }
        if (!HasPadding && (Length == 0 || time == 1)) return null;
        long total = Length + time;
        var q = arange(Length, total, device: device).unsqueeze(1);
        var k = arange(0, total, device: device).unsqueeze(0);
        var mask = (keyIsToken.narrow(1, 0, total).unsqueeze(1) | (k == q).unsqueeze(0)) & (k <= q).unsqueeze(0);
        return mask.unsqueeze(1).MoveToOuterDisposeScope();
    }

    /// <summary>True when <see cref="Mask"/> returned null and attention must still be causal (a prefill).</summary>
    internal bool CausalWithoutMask(long time) => !ragged && !HasPadding && Length == 0 && time > 1;

    /// <summary>Writes the new keys/values of one slot and returns views of everything cached in it.</summary>
    internal (Tensor Keys, Tensor Values) Append(int slot, Tensor k, Tensor v)
    {
        var (keyStore, valueStore) = Storage(slot);
        long time = k.shape[2];
        if (writeIndex is not null)
        {
            keyStore.scatter_(2, writeIndex, k);
            valueStore.scatter_(2, writeIndex, v);
            return (keyStore.narrow(2, 0, Length + 1), valueStore.narrow(2, 0, Length + 1));
        }
        keyStore.narrow(2, Length, time).copy_(k);
        valueStore.narrow(2, Length, time).copy_(v);
        return (keyStore.narrow(2, 0, Length + time), valueStore.narrow(2, 0, Length + time));
    }

    (Tensor Keys, Tensor Values) Storage(int slot)
    {
        keys[slot] ??= zeros(new[] { batch, kvHeads, Capacity, headDim }, dtype, device).DetachFromDisposeScope();
        values[slot] ??= zeros(new[] { batch, kvHeads, Capacity, headDim }, dtype, device).DetachFromDisposeScope();
        return (keys[slot]!, values[slot]!);
    }

    /// <summary>
    /// A new cache holding sequences <paramref name="rows"/> of this one, in that order (a row may repeat): beam
    /// search widens each prompt to its beams and reorders the beams after every step.
    /// </summary>
    public KvCache Select(long[] rows)
    {
        var copy = new KvCache(keys.Length, rows.Length, Capacity, kvHeads, headDim, dtype, device) { Length = Length, HasPadding = HasPadding, ragged = ragged };
        for (int i = 0; i < rows.Length; i++) copy.rowLength[i] = rowLength[rows[i]];
        using var scope = NewDisposeScope();
        var index = tensor(rows, device: device);
        for (int slot = 0; slot < keys.Length; slot++)
        {
            copy.keys[slot] = keys[slot]?.index_select(0, index).DetachFromDisposeScope();
            copy.values[slot] = values[slot]?.index_select(0, index).DetachFromDisposeScope();
        }
        copy.keyIsToken.copy_(keyIsToken.index_select(0, index));
        copy.nextPosition.copy_(nextPosition.index_select(0, index));
        copy.Settle();
        return copy;
    }

    /// <summary>
    /// Replaces rows <paramref name="targetRows"/> of this cache by rows <paramref name="sourceRows"/> of
    /// <paramref name="source"/> (same slots and shapes; a source row may repeat), with their lengths, padding and
    /// positions: a shared prompt prefix copied into every row of a prefill, or prefilled sequences moved into the
    /// rows that continuous batching freed. Columns past a row's new length keep stale values; they are masked.
    /// </summary>
    public void LoadRows(KvCache source, long[] sourceRows, long[] targetRows)
    {
        if (source.keys.Length != keys.Length || source.kvHeads != kvHeads || source.headDim != headDim || sourceRows.Length != targetRows.Length)
            throw new ArgumentException("KV caches differ in slots or shapes, or the row lists in length");
        long columns = sourceRows.Length == 0 ? 0 : sourceRows.Max(r => source.rowLength[r]);
        if (columns > Capacity) throw new EvoMergeException($"KV cache: {columns} positions exceed its capacity of {Capacity}");
        using var scope = NewDisposeScope();
        var from = tensor(sourceRows, device: device);
        var to = tensor(targetRows, device: device);
        for (int slot = 0; slot < keys.Length; slot++)
        {
            if (source.keys[slot] is null) continue;
            var (keyStore, valueStore) = Storage(slot);
            keyStore.narrow(2, 0, columns).index_copy_(0, to, source.keys[slot]!.narrow(2, 0, columns).index_select(0, from));
            valueStore.narrow(2, 0, columns).index_copy_(0, to, source.values[slot]!.narrow(2, 0, columns).index_select(0, from));
        }
        keyIsToken.narrow(1, 0, columns).index_copy_(0, to, source.keyIsToken.narrow(1, 0, columns).index_select(0, from));
        nextPosition.index_copy_(0, to, source.nextPosition.index_select(0, from));
        for (int i = 0; i < targetRows.Length; i++) rowLength[targetRows[i]] = source.rowLength[sourceRows[i]];
        HasPadding |= source.HasPadding;
        Settle();
    }

    /// <summary>
    /// Empties <paramref name="rows"/>: an idle row of a continuous batch restarts at column 0, so that the steps it
    /// still runs along with the others never outgrow the capacity.
    /// </summary>
    public void ResetRows(long[] rows)
    {
        using var scope = NewDisposeScope();
        nextPosition.index_fill_(0, tensor(rows, device: device), 0);
        foreach (long r in rows) rowLength[r] = 0;
        Settle();
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
        rowLength = new long[batch];
        keyIsToken = ones(new[] { batch, (long)capacity }, ScalarType.Bool, device).DetachFromDisposeScope();
        nextPosition = zeros(new[] { batch }, ScalarType.Int64, device).DetachFromDisposeScope();
    }

    /// <summary>Ends a forward: the pending positions become cached.</summary>
    internal void Commit(long time)
    {
        for (int b = 0; b < batch; b++) rowLength[b] += time;
        writeIndex?.Dispose();
        writeIndex = null;
        Settle();
    }

    /// <summary>Recomputes <see cref="Length"/> and whether the rows are ragged after rows changed.</summary>
    void Settle()
    {
        long longest = rowLength.Max();
        Length = (int)longest;
        ragged = rowLength.Any(l => l != longest);
    }

    public void Dispose()
    {
        foreach (var t in keys.Concat(values)) t?.Dispose();
        keyIsToken.Dispose();
        nextPosition.Dispose();
        writeIndex?.Dispose();
    }
}
