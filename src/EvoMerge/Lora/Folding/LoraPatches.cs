using EvoMerge.Anatomy;
using EvoMerge.IO;

namespace EvoMerge.Lora.Folding;

/// <summary>
/// The LoRA changes to fold into one set of tensors (a source model of a recipe, or the merged output), by tensor
/// name, in the order the LoRAs were given. Built by <see cref="Add"/>, which matches a LoRA's modules onto the
/// tensors and refuses a LoRA for another model.
/// </summary>
public sealed class LoraPatches
{
    readonly Dictionary<string, List<LoraPatch>> _byTensor = new(StringComparer.Ordinal);
    readonly LoraTargetIndex _index;
    readonly string _targetLabel;
    readonly ModelAnatomy? _anatomy;

    /// <param name="tensors">The target's tensors, names and shapes.</param>
    /// <param name="targetLabel">How messages name the target ("model 'base'", "the merged output").</param>
    /// <param name="anatomy">The target's anatomy: a diffusion checkpoint's tensors are also found under their other
    /// naming (LDM ↔ diffusers UNet, OpenCLIP ↔ CLIP text encoder), and it tells a kohya <c>lora_te1_</c> key from a
    /// <c>lora_te2_</c> one where both text encoders answer to the same name.</param>
    public LoraPatches(IEnumerable<(string Name, long[] Shape)> tensors, string targetLabel, ModelAnatomy? anatomy = null)
    {
        _index = new LoraTargetIndex(tensors, anatomy);
        _targetLabel = targetLabel;
        _anatomy = anatomy;
    }

    public bool IsEmpty => _byTensor.Count == 0;

    /// <summary>Names of the tensors some LoRA changes.</summary>
    public IEnumerable<string> Tensors => _byTensor.Keys;

    public bool Changes(string tensor) => _byTensor.ContainsKey(tensor);

    /// <summary>Folds every change to <paramref name="tensor"/> into elements [<paramref name="offset"/>, + values.Length).</summary>
    public void Apply(string tensor, long offset, Span<float> values)
    {
        if (!_byTensor.TryGetValue(tensor, out var patches)) return;
        foreach (var p in patches) p.Apply(offset, values);
    }

    /// <summary>
    /// Matches <paramref name="lora"/>'s modules onto the target. A LoRA that matches nothing, or whose update has
    /// another shape than the tensor it names (a LoRA for another base), is an error; modules that match nothing while
    /// others do are one warning naming the first five. Returns a one-line summary for notes.
    /// </summary>
    public string Add(LoraFile lora, double strength, List<string> warnings)
    {
        if (!double.IsFinite(strength)) throw new EvoMergeException($"{lora.Path}: strength {strength} is not a finite number");
        var unmatched = new List<string>();
        int matched = 0;
        foreach (var m in lora.Modules)
        {
            if (ResolveFactors(lora.Format, m.Key) is not { } target) { unmatched.Add(m.Key); continue; }
            CheckShape(lora, m, target);
            Patch(new LoraPatch(lora, m, target, _index.TensorShape(target), strength));
            matched++;
        }
        foreach (var w in lora.WholeTensors)
        {
            // A whole tensor replaces a whole tensor: never a part of a fused one.
            if (Single(_index.Resolve(w.Key).Where(t => t.Parts == 1).ToList(), w.Key) is not { } target) { unmatched.Add(w.Key); continue; }
            var shape = _index.ShapeOf(target);
            if (!shape.AsSpan().SequenceEqual(w.Tensor.Shape))
                throw new EvoMergeException($"{lora.WeightsPath}: '{w.Tensor.Name}' is {w.Tensor.ShapeText} but tensor '{target.Tensor}' of {_targetLabel} is {Shape(shape)}; is the LoRA for another base model?");
            Patch(new LoraPatch(lora, w, target.Tensor, shape, strength));
            matched++;
        }
        string firstFive = string.Join(", ", unmatched.Take(5)) + (unmatched.Count > 5 ? ", ..." : "");
        if (matched == 0)
            throw new EvoMergeException($"{lora.Path}: none of the LoRA's {unmatched.Count} modules matches a tensor of {_targetLabel} (first five: {firstFive}); is it a LoRA for another model?");
        if (unmatched.Count > 0)
            warnings.Add($"{lora.Path}: {unmatched.Count} of the LoRA's {unmatched.Count + matched} modules match no tensor of {_targetLabel} and are skipped (first five: {firstFive})");
        return $"LoRA {lora.Path} ({lora.Format.ToString().ToLowerInvariant()}, strength {strength.ToString(System.Globalization.CultureInfo.InvariantCulture)}): {matched} tensors of {_targetLabel}";
    }

    /// <summary>
    /// kohya keys are <c>lora_&lt;component&gt;_&lt;path with '_'&gt;</c>: the component (unet, te, te1, te2) goes, the path is
    /// looked up whole; PEFT keys are dotted paths, from the model's root or a component's (diffusers writes
    /// <c>unet.…</c>, <c>text_encoder.…</c>, <c>text_encoder_2.…</c>). The component also settles a path that several
    /// modules answer to (both text encoders of a pipeline; CLIP-L and the OpenCLIP tower renamed in a single file).
    /// </summary>
    LoraTarget? ResolveFactors(LoraFormat format, string key)
    {
        if (format == LoraFormat.Peft || key.Contains('.'))
        {
            int dot = key.IndexOf('.');
            return Single(_index.Resolve(key + ".weight"), dot > 0 ? key[..dot] : key);
        }
        if (!key.StartsWith("lora_", StringComparison.Ordinal)) return null;
        int end = key.IndexOf('_', "lora_".Length);
        if (end < 0) return null;
        return Single(_index.Find(key[(end + 1)..] + "_weight"), key["lora_".Length..end]);
    }

    /// <summary>The one target among <paramref name="found"/>, narrowed to the module <paramref name="component"/> names when several; else null.</summary>
    LoraTarget? Single(IReadOnlyList<LoraTarget> found, string component)
    {
        if (found.Count > 1 && _anatomy != null && ModuleOf(component) is { } module)
            found = found.Where(t => _anatomy.Place(t.Tensor).Module == module).ToList();
        return found.Count == 1 ? found[0] : null;
    }

    /// <summary>kohya's component names (unet, te for SD 1.x/2.x, te1 and te2 for SDXL) and diffusers' pipeline folders.</summary>
    static ModelModule? ModuleOf(string component) => component switch
    {
        "unet" => ModelModule.Unet,
        "te" or "te1" or "text_encoder" => ModelModule.TextEncoder,
        "te2" or "text_encoder_2" => ModelModule.TextEncoder2,
        _ => null,
    };

    void CheckShape(LoraFile lora, LoraFactors m, LoraTarget target)
    {
        var shape = _index.ShapeOf(target);
        string what = target.Parts == 1 ? $"tensor '{target.Tensor}'" : $"row block {target.Part + 1} of {target.Parts} of tensor '{target.Tensor}'";
        // The update's shape: [out] + down's trailing dimensions ([in] or [in, kh, kw]); transposed, [in, out].
        long[] update = m.Transposed ? [m.Down.Shape[1], m.Up.Shape[0]] : [m.Up.Shape[0], .. m.Down.Shape.AsSpan(1)];
        if (m.Transposed && (m.Down.Shape.Length != 2 || m.Up.Shape.Length != 2)) update = [-1];
        // A 1×1 convolution LoRA on a linear weight (or the reverse) is the same matrix: compare without trailing 1s.
        if (!Squeezed(update).SequenceEqual(Squeezed(shape)))
            throw new EvoMergeException($"{lora.WeightsPath}: module '{m.Key}' makes a {Shape(update)} update but {what} of {_targetLabel} is {Shape(shape)}; is the LoRA for another base model?");
    }

    static long[] Squeezed(long[] shape)
    {
        int n = shape.Length;
        while (n > 2 && shape[n - 1] == 1) n--;
        return shape[..n];
    }

    static string Shape(long[] shape) => "[" + string.Join(", ", shape) + "]";

    void Patch(LoraPatch patch)
    {
        if (!_byTensor.TryGetValue(patch.Tensor, out var list)) _byTensor[patch.Tensor] = list = [];
        list.Add(patch);
    }
}
