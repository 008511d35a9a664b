using static TorchSharp.torch;

namespace EvoMerge.Torch.Diffusion.Training;

/// <summary>Training images in [−1, 1], [batch, channels, size, size], with one caption each.</summary>
public sealed record ImageBatch(Tensor Images, IReadOnlyList<string> Captions);
