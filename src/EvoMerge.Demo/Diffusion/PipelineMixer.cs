using EvoMerge.Anatomy;
using EvoMerge.Torch.Diffusion.Pipeline;
using static TorchSharp.torch;

namespace EvoMerge.Demo.Diffusion;

/// <summary>
/// Linear merges of two pipelines of one shape into a resident third, in place: each UNet tensor is
/// (1 − w)·J + w·L with w its group's weight, the text encoder (1 − wₜ)·J + wₜ·L. The groups are EvoSDXL-JP's genome
/// as the core's diffusion anatomy reads the UNet: one per block (IN00 … M00 … OUTnn) and part, "attn" for the
/// attention projections (<c>to_q</c>/<c>to_k</c>/<c>to_v</c>/<c>to_out.0</c>), "conv" for the rest of the block.
/// The sources' weights are held once as float32 copies; a candidate costs one pass of arithmetic, no allocation of models.
/// </summary>
public sealed class PipelineMixer : IDisposable
{
    readonly Dictionary<string, Tensor> unetJ, unetL, textJ, textL;
    readonly Dictionary<string, int> groupOf = [];

    public DiffusionPipeline Target { get; }
    public IReadOnlyList<string> Groups { get; }

    public PipelineMixer(DiffusionPipeline j, DiffusionPipeline l)
    {
        unetJ = ModuleWeights.Snapshot(j.Unet);
        unetL = ModuleWeights.Snapshot(l.Unet);
        textJ = ModuleWeights.Snapshot(j.TextEncoder);
        textL = ModuleWeights.Snapshot(l.TextEncoder);
        foreach (var (name, t) in unetJ)
            if (!unetL.TryGetValue(name, out var other) || !other.shape.SequenceEqual(t.shape))
                throw new EvoMergeException($"the two UNets differ at tensor '{name}'; a linear merge needs one shape");
        Target = j.Copy();
        var anatomy = ModelAnatomy.Of(null, unetJ.Keys);
        var places = unetJ.Keys.ToDictionary(n => n, anatomy.Place);
        var order = places.Values.Distinct().OrderBy(p => p.Role != TensorRole.Layer).ThenBy(p => p.Layer).ThenBy(p => p.Part).ToList();
        Groups = order.Select(p => GroupName(anatomy, p)).ToList();
        foreach (var (name, place) in places) groupOf[name] = order.IndexOf(place);
    }

    static string GroupName(ModelAnatomy anatomy, TensorPlace p) => p.Role != TensorRole.Layer ? "outside the blocks"
        : $"{anatomy.BlockName(p.Layer)} {(p.Part == TensorPart.Attention ? "attn" : "conv")}";

    /// <summary>Sets the target to the merge with L-weight <paramref name="unetWeights"/>[g] per group and <paramref name="textWeight"/> for the text encoder.</summary>
    public void Mix(IReadOnlyList<double> unetWeights, double textWeight)
    {
        if (unetWeights.Count != Groups.Count) throw new ArgumentException($"{Groups.Count} group weights expected", nameof(unetWeights));
        using var _ = no_grad();
        foreach (var (name, p) in Target.Unet.named_parameters()) Blend(p, unetJ[name], unetL[name], unetWeights[groupOf[name]]);
        foreach (var (name, p) in Target.TextEncoder.named_parameters()) Blend(p, textJ[name], textL[name], textWeight);
    }

    static void Blend(Tensor target, Tensor j, Tensor l, double w)
    {
        using var scope = NewDisposeScope();
        target.copy_(j * (1 - w) + l * w);
    }

    public void Dispose()
    {
        Target.Dispose();
        foreach (var t in unetJ.Values.Concat(unetL.Values).Concat(textJ.Values).Concat(textL.Values)) t.Dispose();
    }
}
