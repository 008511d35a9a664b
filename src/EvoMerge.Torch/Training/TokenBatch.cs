using static TorchSharp.torch;

namespace EvoMerge.Torch.Training;

/// <summary>
/// A batch of token sequences for next-token training: inputs are each sequence without its last token, targets
/// without its first; shorter sequences are right-padded, and padded target positions are <see cref="Ignore"/>
/// so the loss skips them.
/// </summary>
public static class TokenBatch
{
    public const long Ignore = -100;

    public static (Tensor Inputs, Tensor Targets) Create(IReadOnlyList<IReadOnlyList<int>> sequences, int padId)
    {
        int width = sequences.Max(s => s.Count) - 1;
        var inputs = new long[sequences.Count * width];
        var targets = new long[sequences.Count * width];
        Array.Fill(inputs, padId);
        Array.Fill(targets, Ignore);
        for (int b = 0; b < sequences.Count; b++)
        {
            var s = sequences[b];
            for (int t = 0; t + 1 < s.Count; t++)
            {
                inputs[b * width + t] = s[t];
                targets[b * width + t] = s[t + 1];
            }
        }
        return (tensor(inputs, [sequences.Count, width]), tensor(targets, [sequences.Count, width]));
    }
}
