using EvoMerge.Moe;
using EvoMerge.Torch.Runtime;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Moe;

/// <summary>
/// The runtime side of <see cref="IHiddenStateSource"/>: loads the base model once (float32 by default, where
/// mergekit uses bfloat16) and runs each prompt alone, so no padding enters the states.
/// </summary>
public sealed class TorchHiddenStateSource : IHiddenStateSource
{
    readonly LoadedModel loaded;

    public TorchHiddenStateSource(string baseModel, Device? device = null, ScalarType dtype = ScalarType.Float32)
    {
        loaded = LoadedModel.Load(baseModel, device, dtype);
    }

    public float[][] LayerInputs(IReadOnlyList<int> tokens, TokenReduction reduction)
    {
        if (tokens.Count == 0) throw new ArgumentException("a prompt needs at least one token", nameof(tokens));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var model = loaded.Model;
        var ids = tensor(tokens.Select(t => (long)t).ToArray(), [1, tokens.Count], device: model.Device);
        var states = model.LayerInputs(ids).select(1, 0).to_type(ScalarType.Float32);   // [layers, time, hidden]
        var reduced = reduction == TokenReduction.Last ? states.select(1, tokens.Count - 1) : states.mean([1]);
        var flat = reduced.cpu().contiguous().data<float>().ToArray();
        int layers = (int)reduced.shape[0], hidden = (int)reduced.shape[1];
        return Enumerable.Range(0, layers).Select(l => flat.AsSpan(l * hidden, hidden).ToArray()).ToArray();
    }

    public void Dispose() => loaded.Dispose();
}
