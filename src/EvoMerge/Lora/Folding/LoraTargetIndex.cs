namespace EvoMerge.Lora.Folding;

/// <summary>
/// A model's tensor names as a LoRA addresses them. kohya writes a module's path with every '.' turned into '_'
/// (<c>lora_unet_input_blocks_4_1_proj_in</c>), so names are compared in that normal form; and a LoRA may name a module
/// from a different root than the file does (a UNet LoRA onto a single-file checkpoint's <c>model.diffusion_model.…</c>,
/// a diffusers <c>unet.…</c> key onto a bare UNet file), so every suffix of a name that starts at a '.' is indexed.
/// A lookup that finds more than one tensor is ambiguous and matches nothing.
/// </summary>
public sealed class LoraTargetIndex
{
    readonly Dictionary<string, List<string>> _bySuffix = new(StringComparer.Ordinal);
    readonly Dictionary<string, long[]> _shapes = new(StringComparer.Ordinal);

    public LoraTargetIndex(IEnumerable<(string Name, long[] Shape)> tensors)
    {
        foreach (var (name, shape) in tensors)
        {
            _shapes[name] = shape;
            for (int start = 0; start >= 0; start = name.IndexOf('.', start) is var dot and >= 0 ? dot + 1 : -1)
            {
                string key = Normal(name[start..]);
                if (!_bySuffix.TryGetValue(key, out var list)) _bySuffix[key] = list = [];
                if (!list.Contains(name)) list.Add(name);
            }
        }
    }

    public static string Normal(string name) => name.Replace('.', '_');

    public long[] ShapeOf(string tensor) => _shapes[tensor];

    /// <summary>Every tensor whose name ends (at a '.') with <paramref name="name"/>, compared in normal form.</summary>
    public IReadOnlyList<string> Find(string name) => _bySuffix.TryGetValue(Normal(name), out var list) ? list : [];

    /// <summary>
    /// The tensor a dotted path names: the path itself, else the path without its leading components, one at a time
    /// (a PEFT key rooted at <c>unet.</c> or <c>base_model.model.</c> onto a model that lacks that root). Stops at the
    /// first candidate that finds anything: one tensor is a match, several are ambiguous (null).
    /// </summary>
    public string? Resolve(string dottedPath)
    {
        for (string candidate = dottedPath; ;)
        {
            var found = Find(candidate);
            if (found.Count > 0) return found.Count == 1 ? found[0] : null;
            int dot = candidate.IndexOf('.');
            if (dot < 0) return null;
            candidate = candidate[(dot + 1)..];
        }
    }
}
