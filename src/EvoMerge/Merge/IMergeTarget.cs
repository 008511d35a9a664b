namespace EvoMerge.Merge;

/// <summary>
/// Where merged tensors go: the streaming safetensors writer (<c>evomerge merge</c>) or the weights of a model
/// already resident in memory (the evolution loop, which never touches disk per candidate).
/// The executor calls <see cref="Accept"/> once per output tensor, possibly from several threads at once for
/// different names; <paramref name="values"/> is only valid during the call, and the target converts it to its
/// own dtype.
/// </summary>
public interface IMergeTarget
{
    void Accept(string name, ReadOnlySpan<long> shape, ReadOnlySpan<float> values);
}

/// <summary>
/// A target that also accepts a large tensor in row blocks (the streaming file writer), so the executor never holds
/// it whole. Only methods that are entry-wise (<see cref="Methods.MergeMethod.IsElementwise"/>) are split.
/// </summary>
public interface IMergeBlockTarget : IMergeTarget
{
    /// <summary>Values of elements [<paramref name="elementOffset"/>, + values.Length) of tensor <paramref name="name"/>.</summary>
    void AcceptBlock(string name, ReadOnlySpan<long> shape, long elementOffset, ReadOnlySpan<float> values);
}
