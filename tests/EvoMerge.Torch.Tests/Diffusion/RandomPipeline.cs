using EvoMerge.Tokenization;
using EvoMerge.Torch.Diffusion.Model;
using EvoMerge.Torch.Diffusion.Pipeline;
using EvoMerge.Torch.Diffusion.Scheduling;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Tests.Diffusion;

/// <summary>Tiny diffusion pipelines with every weight random (norm scales near 1), for parity tests.</summary>
static class RandomPipeline
{
    /// <summary>Three blocks, two layers per block, channel changes, plain and cross-attention blocks in both directions.</summary>
    public static readonly UNetConfig Unet = new()
    {
        SampleSize = 8, InChannels = 3, OutChannels = 3, BlockOutChannels = [8, 16, 16],
        DownBlockTypes = ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
        UpBlockTypes = ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
        LayersPerBlock = 2, CrossAttentionDim = 12, AttentionHeads = [1, 2, 4], NormNumGroups = 4,
    };

    public static readonly ClipTextConfig Text = new() { VocabSize = 30, HiddenSize = 12, IntermediateSize = 20, NumLayers = 2, NumHeads = 2, MaxPositionEmbeddings = 7 };

    public static DiffusionPipeline Create(int seed, UNetConfig? unet = null, NoiseSchedule? schedule = null)
    {
        random.manual_seed(seed);
        var p = DiffusionPipeline.Create(unet ?? Unet, Text, schedule ?? new NoiseSchedule(), new ByteTokenizer());
        using var _ = no_grad();
        foreach (var module in new nn.Module[] { p.Unet, p.TextEncoder })
            foreach (var (name, w) in module.named_parameters())
            {
                if (w.dim() >= 2) w.copy_(randn_like(w) / Math.Sqrt(w.numel() / w.shape[0]));
                else if (name.EndsWith("weight")) w.copy_(1 + 0.2 * randn_like(w));
                else w.copy_(0.2 * randn_like(w));
            }
        return p;
    }

    /// <summary>Ids 3 + (byte % 27), BOS 1, EOS 2: enough to address the random 30-token vocabulary.</summary>
    public sealed class ByteTokenizer : ITokenizer
    {
        public int VocabSize => 30;
        public int? BosId => 1;
        public int? EosId => 2;
        public IReadOnlyList<int> Encode(string text, bool addBos) => (addBos ? new[] { 1 } : []).Concat(text.Select(c => 3 + c % 27)).ToList();
        public string Decode(IReadOnlyList<int> ids) => string.Concat(ids.Where(i => i > 2).Select(i => (char)('a' + i - 3)));
    }
}
