using EvoMerge.Torch.Diffusion.Training;
using static TorchSharp.torch;

namespace EvoMerge.Demo.Diffusion;

/// <summary>Pictures of the world as tensors and as seeded, endless training batches with English or Japanese captions.</summary>
public static class PictureData
{
    /// <summary>[pictures, 3, 16, 16] in [−1, 1].</summary>
    public static Tensor Images(IReadOnlyList<Picture> pictures, Random jitter)
    {
        int size = 3 * PictureRenderer.Size * PictureRenderer.Size;
        var data = new float[pictures.Count * size];
        for (int i = 0; i < pictures.Count; i++) PictureRenderer.Pixels(pictures[i], jitter).CopyTo(data, i * size);
        return tensor(data, [pictures.Count, 3, PictureRenderer.Size, PictureRenderer.Size]);
    }

    public static IEnumerable<ImageBatch> Batches(int seed, int batchSize, Func<Picture, string> caption)
    {
        var rng = new Random(seed);
        while (true)
        {
            var pictures = Enumerable.Range(0, batchSize).Select(_ => PictureWorld.Random(rng)).ToList();
            yield return new ImageBatch(Images(pictures, rng), pictures.Select(caption).ToList());
        }
    }
}
