using static TorchSharp.torch;

namespace EvoMerge.Torch.Model;

/// <summary>
/// Rotary position embedding in Hugging Face's layout: dimension i is rotated with dimension i + d/2
/// ("rotate half"). llama2.c pairs adjacent dimensions instead; its import permutes q/k rows to match.
/// </summary>
public sealed class RotaryEmbedding
{
    readonly Tensor invFreq;   // [headDim / 2] float32 on the model's device, made once

    public RotaryEmbedding(LlamaConfig config, Device device)
    {
        int half = config.HeadDim / 2;
        var f = new double[half];
        for (int i = 0; i < half; i++) f[i] = 1.0 / Math.Pow(config.RopeTheta, 2.0 * i / config.HeadDim);
        config.RopeScaling?.Apply(f);
        invFreq = tensor(f.Select(x => (float)x).ToArray(), device: device).DetachFromDisposeScope();
    }

    /// <summary>cos and sin for each position, shaped [batch, 1, time, headDim] to broadcast over heads.</summary>
    public (Tensor Cos, Tensor Sin) Angles(Tensor positions, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var freqs = positions.to_type(ScalarType.Float32).unsqueeze(-1) * invFreq;   // [B, T, d/2]
        var emb = cat([freqs, freqs], -1).unsqueeze(1);                             // [B, 1, T, d]
        return (emb.cos().to_type(dtype).MoveToOuterDisposeScope(), emb.sin().to_type(dtype).MoveToOuterDisposeScope());
    }

    /// <summary>x·cos + rotate_half(x)·sin, for x shaped [batch, heads, time, headDim].</summary>
    public static Tensor Apply(Tensor x, (Tensor Cos, Tensor Sin) angles)
    {
        using var scope = NewDisposeScope();
        long half = x.shape[^1] / 2;
        var rotated = cat([-x.narrow(-1, half, half), x.narrow(-1, 0, half)], -1);
        return (x * angles.Cos + rotated * angles.Sin).MoveToOuterDisposeScope();
    }
}
