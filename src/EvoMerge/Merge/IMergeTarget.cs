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
