using EvoMerge.Anatomy;

namespace EvoMerge.Lora.Folding;

/// <summary>
/// What a LoRA module changes: a tensor of the model, or rows <see cref="Part"/> of <see cref="Parts"/> equal row
/// blocks of it (a q, k or v projection inside OpenCLIP's fused in_proj_weight).
/// </summary>
public readonly record struct LoraTarget(string Tensor, int Part = 0, int Parts = 1);

/// <summary>
/// A model's tensor names as a LoRA addresses them. kohya writes a module's path with every '.' turned into '_'
/// (<c>lora_unet_input_blocks_4_1_proj_in</c>), so names are compared in that normal form; and a LoRA may name a module
/// from a different root than the file does (a UNet LoRA onto a single-file checkpoint's <c>model.diffusion_model.…</c>,
/// a diffusers <c>unet.…</c> key onto a bare UNet file), so every suffix of a name that starts at a '.' is indexed.
/// A diffusion checkpoint's tensors are also indexed under their names in the module's other naming
/// (<see cref="ModelAnatomy.OtherNamings"/>): an LDM-named LoRA finds a diffusers UNet's tensors and the reverse, and a
/// CLIP-named text-encoder LoRA finds the rows of OpenCLIP's fused projection. A lookup that finds more than one
/// target is ambiguous; the caller may narrow it by module.
/// </summary>
public sealed class LoraTargetIndex
{
    readonly Dictionary<string, List<LoraTarget>> _bySuffix = new(StringComparer.Ordinal);
    readonly Dictionary<string, long[]> _shapes = new(StringComparer.Ordinal);

    public LoraTargetIndex(IEnumerable<(string Name, long[] Shape)> tensors, ModelAnatomy? anatomy = null)
    {
        foreach (var (name, shape) in tensors)
        {
            _shapes[name] = shape;
            Add(name, new LoraTarget(name));
            if (anatomy is not { IsDiffusion: true }) continue;
            foreach (var alias in anatomy.OtherNamings(name))
                if (shape.Length > 0 && shape[0] % alias.Parts == 0)
                    Add(alias.Name, new LoraTarget(name, alias.Part, alias.Parts));
        }
    }

    void Add(string name, LoraTarget target)
    {
        for (int start = 0; start >= 0; start = name.IndexOf('.', start) is var dot and >= 0 ? dot + 1 : -1)
        {
            string key = Normal(name[start..]);
            if (!_bySuffix.TryGetValue(key, out var list)) _bySuffix[key] = list = [];
            if (!list.Contains(target)) list.Add(target);
        }
    }

    public static string Normal(string name) => name.Replace('.', '_');

    /// <summary>The shape a target's update must have: the tensor's, with the rows of one part.</summary>
    public long[] ShapeOf(LoraTarget target)
    {
        var shape = _shapes[target.Tensor];
        return target.Parts == 1 ? shape : [shape[0] / target.Parts, .. shape.AsSpan(1)];
    }

    /// <summary>The shape of the whole tensor.</summary>
    public long[] TensorShape(LoraTarget target) => _shapes[target.Tensor];

    /// <summary>Every target whose name ends (at a '.') with <paramref name="name"/>, compared in normal form.</summary>
    public IReadOnlyList<LoraTarget> Find(string name) => _bySuffix.TryGetValue(Normal(name), out var list) ? list : [];

    /// <summary>
    /// The targets a dotted path names: the path itself, else the path without its leading components, one at a time
    /// (a PEFT key rooted at <c>unet.</c> or <c>base_model.model.</c> onto a model that lacks that root). Stops at the
    /// first candidate that finds anything; more than one target is ambiguous.
    /// </summary>
    public IReadOnlyList<LoraTarget> Resolve(string dottedPath)
    {
        for (string candidate = dottedPath; ;)
        {
            var found = Find(candidate);
            if (found.Count > 0) return found;
            int dot = candidate.IndexOf('.');
            if (dot < 0) return [];
            candidate = candidate[(dot + 1)..];
        }
    }
}
