using EvoMerge.Anatomy;
using EvoMerge.Torch.Diffusion.Pipeline;
using static TorchSharp.torch;

namespace EvoMerge.Demo.Diffusion;

/// <summary>
/// Task-arithmetic merges of J and L onto their common base into a resident fourth pipeline, in place: each UNet
/// tensor is base + a·(J − base) + b·(L − base) with a and b its group's scales, the text encoder the same with its own
/// two. EvoSDXL-JP's loader mixes its UNets per group and then adds SDXL-Lightning on top at full strength (as a LoRA):
/// J's Japanese and L's few steps are both deltas on SDXL, and a linear merge (1 − w)·J + w·L, the special case
/// a + b = 1, can only trade one for the other. The groups are EvoSDXL-JP's genome as the core's diffusion anatomy reads
/// the UNet: one per block (IN00 … M00 … OUTnn) and part, "attn" for the attention projections
/// (<c>to_q</c>/<c>to_k</c>/<c>to_v</c>/<c>to_out.0</c>), "conv" for the rest of the block. The sources' weights are held
/// once as float32 copies; a candidate costs one pass of arithmetic, no allocation of models.
/// </summary>
public sealed class PipelineMixer : IDisposable
{
    readonly Dictionary<string, Tensor> unetBase, unetJ, unetL, textBase, textJ, textL;
    readonly Dictionary<string, int> groupOf = [];

    public DiffusionPipeline Target { get; }
    public IReadOnlyList<string> Groups { get; }

    public PipelineMixer(DiffusionPipeline baseModel, DiffusionPipeline j, DiffusionPipeline l)
    {
        unetBase = ModuleWeights.Snapshot(baseModel.Unet);
        unetJ = ModuleWeights.Snapshot(j.Unet);
        unetL = ModuleWeights.Snapshot(l.Unet);
        textBase = ModuleWeights.Snapshot(baseModel.TextEncoder);
        textJ = ModuleWeights.Snapshot(j.TextEncoder);
        textL = ModuleWeights.Snapshot(l.TextEncoder);
        foreach (var (what, b, others) in new[] { ("UNet", unetBase, new[] { unetJ, unetL }), ("text encoder", textBase, new[] { textJ, textL }) })
            foreach (var (name, t) in b)
                if (others.Any(o => !o.TryGetValue(name, out var other) || !other.shape.SequenceEqual(t.shape)))
                    throw new EvoMergeException($"the base's, J's and L's {what}s differ at tensor '{name}'; a merge needs one shape");
        Target = j.Copy();
        var anatomy = ModelAnatomy.Of(null, unetJ.Keys);
        var places = unetJ.Keys.ToDictionary(n => n, anatomy.Place);
        var order = places.Values.Distinct().OrderBy(p => p.Role != TensorRole.Layer).ThenBy(p => p.Layer).ThenBy(p => p.Part).ToList();
        Groups = order.Select(p => GroupName(anatomy, p)).ToList();
        foreach (var (name, place) in places) groupOf[name] = order.IndexOf(place);
    }

    static string GroupName(ModelAnatomy anatomy, TensorPlace p) => p.Role != TensorRole.Layer ? "outside the blocks"
        : $"{anatomy.BlockName(p.Layer)} {(p.Part == TensorPart.Attention ? "attn" : "conv")}";

    /// <summary>
    /// Sets the target's UNet to base + <paramref name="jScales"/>[g]·ΔJ + <paramref name="lScales"/>[g]·ΔL per group g
    /// and its text encoder to base + <paramref name="textJ"/>·ΔJ + <paramref name="textL"/>·ΔL.
    /// </summary>
    public void Mix(IReadOnlyList<double> jScales, IReadOnlyList<double> lScales, double textJ, double textL)
    {
        if (jScales.Count != Groups.Count || lScales.Count != Groups.Count) throw new ArgumentException($"{Groups.Count} scales per source expected", nameof(jScales));
        using var _ = no_grad();
        foreach (var (name, p) in Target.Unet.named_parameters())
            Blend(p, unetBase[name], unetJ[name], unetL[name], jScales[groupOf[name]], lScales[groupOf[name]]);
        foreach (var (name, p) in Target.TextEncoder.named_parameters()) Blend(p, textBase[name], this.textJ[name], this.textL[name], textJ, textL);
    }

    /// <summary>The plain linear merge (1 − w)·J + w·L of everything: base + (1 − w)·ΔJ + w·ΔL.</summary>
    public void Linear(double w)
    {
        var (a, b) = (Enumerable.Repeat(1 - w, Groups.Count).ToArray(), Enumerable.Repeat(w, Groups.Count).ToArray());
        Mix(a, b, 1 - w, w);
    }

    static void Blend(Tensor target, Tensor b, Tensor j, Tensor l, double a, double c)
    {
        using var scope = NewDisposeScope();
        target.copy_(b + a * (j - b) + c * (l - b));
    }

    public void Dispose()
    {
        Target.Dispose();
        foreach (var t in new[] { unetBase, unetJ, unetL, textBase, textJ, textL }.SelectMany(d => d.Values)) t.Dispose();
    }
}
