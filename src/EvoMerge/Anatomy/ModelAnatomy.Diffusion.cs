using System.Globalization;

namespace EvoMerge.Anatomy;

/// <summary>How a diffusion checkpoint names its tensors.</summary>
public enum DiffusionLayout
{
    /// <summary>A diffusers pipeline folder, each component's names under its folder's name: <c>unet.down_blocks.0…</c>, <c>vae.encoder…</c>.</summary>
    Pipeline,
    /// <summary>A diffusers UNet on its own (the <c>unet/</c> folder): <c>down_blocks.0…</c>, <c>mid_block…</c>.</summary>
    DiffusersUnet,
    /// <summary>A single-file SD 1.x/2.x/SDXL checkpoint: <c>model.diffusion_model.*</c>, <c>conditioner.embedders.*</c> or <c>cond_stage_model.*</c>, <c>first_stage_model.*</c>.</summary>
    SingleFile,
}

/// <summary>
/// Stable Diffusion checkpoints (SD 1.x, 2.x, SDXL), in either layout. The UNet's blocks are its layers, numbered as
/// block-weighted merging has numbered them since the web UIs (IN00…, M00, OUT00…), the same in both layouts:
/// block 0 is the input convolution with the time and label embeddings; then each down block's resnet+attention
/// pairs and its downsampler; the middle block; each up block's pairs, the upsampler going with the last; the output
/// norm and convolution go with the last block. SDXL has 9 + 1 + 9 blocks, SD 1.x/2.x 12 + 1 + 12. Inside a block
/// the attention projections (<c>to_q</c>, <c>to_k</c>, <c>to_v</c>, <c>to_out.0</c>) are <see cref="TensorPart.Attention"/>
/// and everything else <see cref="TensorPart.Convolution"/>: EvoSDXL-JP's split. Text encoders and the VAE are
/// modules of their own, outside the layers. The counts come from the tensor names, so any depth of UNet works.
/// </summary>
public sealed partial class ModelAnatomy
{
    /// <summary>The diffusion layout, or null for a language model.</summary>
    public DiffusionLayout? Diffusion { get; private init; }

    /// <summary>True for a diffusion checkpoint: the UNet's blocks are the layers.</summary>
    public bool IsDiffusion => Diffusion != null;

    /// <summary>The module whose layers <see cref="LayerOf"/> counts: the UNet of a diffusion checkpoint, else the text decoder.</summary>
    public ModelModule LayeredModule => IsDiffusion ? ModelModule.Unet : ModelModule.TextDecoder;

    bool _ldmUnet;            // the UNet's names are the original (LDM) ones: input_blocks / middle_block / output_blocks
    int _inputBlocks;         // IN00.. count: the middle block's index
    int _outputBlocks;        // OUT00.. count
    int _layersPerBlock;      // resnet(+attention) pairs per down block, in either naming
    HashSet<int> _upBlocksWithAttention = [];   // diffusers up blocks with attentions: their upsampler is LDM sub-module 2, else 1

    /// <summary>Single-file prefixes and the module each holds (SDXL: two embedders; SD 1.x/2.x: cond_stage_model).</summary>
    static readonly (string Prefix, ModelModule Module)[] SingleFileModules =
    [
        ("model.diffusion_model.", ModelModule.Unet), ("conditioner.embedders.0.", ModelModule.TextEncoder),
        ("conditioner.embedders.1.", ModelModule.TextEncoder2), ("cond_stage_model.", ModelModule.TextEncoder),
        ("first_stage_model.", ModelModule.Vae),
    ];

    /// <summary>The weight components of a diffusers pipeline: the folder names, which prefix their tensors' names.</summary>
    public static IReadOnlyList<(string Folder, ModelModule Module)> PipelineComponents { get; } =
        [("unet", ModelModule.Unet), ("text_encoder", ModelModule.TextEncoder), ("text_encoder_2", ModelModule.TextEncoder2), ("vae", ModelModule.Vae)];

    static readonly string[] DiffusersUnetTop = ["conv_in.", "time_embedding.", "add_embedding.", "class_embedding.", "encoder_hid_proj."];
    static readonly string[] DiffusersUnetBottom = ["conv_norm_out.", "conv_out."];
    static readonly string[] DiffusersUnetBlocks = ["down_blocks.", "mid_block.", "up_blocks."];
    static readonly string[] LdmUnetBlocks = ["input_blocks.", "middle_block.", "output_blocks."];
    static readonly string[] AttentionProjections = [".to_q.", ".to_k.", ".to_v.", ".to_out.0."];

    /// <summary>
    /// The anatomy of a checkpoint with these tensor names: a diffusion layout when the names are one, else
    /// <see cref="For"/>(<paramref name="architecture"/>). A checkpoint mixing layouts (single-file and diffusers
    /// names, or the UNet's two namings) is an <see cref="EvoMergeException"/> naming one tensor of each.
    /// </summary>
    public static ModelAnatomy Of(string? architecture, IEnumerable<string> tensorNames)
    {
        var names = tensorNames as IReadOnlyCollection<string> ?? tensorNames.ToList();
        string? pipeline = null, single = null, bare = null;
        int other = 0;
        foreach (string n in names)
        {
            if (PipelineComponents.Any(c => n.StartsWith(c.Folder + ".", StringComparison.Ordinal))) pipeline ??= n;
            else if (SingleFileModules.Any(m => n.StartsWith(m.Prefix, StringComparison.Ordinal))) single ??= n;
            else if (IsDiffusersUnetName(n)) bare ??= n;
            else other++;
        }
        // A pipeline's names all carry a component prefix; a few such names in another model are that model's own.
        if (pipeline != null && other > 0) pipeline = null;
        var found = new[] { ("pipeline", pipeline), ("single-file", single), ("diffusers UNet", bare) }.Where(f => f.Item2 != null).ToList();
        if (found.Count == 0) return For(architecture);
        if (found.Count > 1)
            throw new EvoMergeException($"tensor names mix the {found[0].Item1} layout ('{found[0].Item2}') and the {found[1].Item1} layout ('{found[1].Item2}'); a checkpoint must use one");
        var layout = pipeline != null ? DiffusionLayout.Pipeline : single != null ? DiffusionLayout.SingleFile : DiffusionLayout.DiffusersUnet;
        return Measure(layout, names);
    }

    static bool IsDiffusersUnetName(string n) =>
        DiffusersUnetBlocks.Concat(DiffusersUnetTop).Concat(DiffusersUnetBottom).Any(p => n.StartsWith(p, StringComparison.Ordinal));

    /// <summary>Counts the UNet's blocks from its names, refusing a UNet that uses both namings.</summary>
    static ModelAnatomy Measure(DiffusionLayout layout, IReadOnlyCollection<string> names)
    {
        var anatomy = new ModelAnatomy(null, [], [], [], isKnown: true) { Diffusion = layout };
        string? ldm = null, diffusers = null;
        int maxIn = -1, maxOut = -1, maxDown = -1, maxResnet = -1, firstDownsampler = int.MaxValue;
        foreach (string full in names)
        {
            if (anatomy.UnetName(full) is not string n) continue;
            if (LdmUnetBlocks.Any(p => n.StartsWith(p, StringComparison.Ordinal)))
            {
                ldm ??= full;
                if (Index(n, "input_blocks.") is int i)
                {
                    maxIn = Math.Max(maxIn, i);
                    if (n.AsSpan("input_blocks.".Length).IndexOf(".0.op.") is var op and >= 0 && op == Digits(n, "input_blocks.".Length))
                        firstDownsampler = Math.Min(firstDownsampler, i);
                }
                if (Index(n, "output_blocks.") is int o) maxOut = Math.Max(maxOut, o);
            }
            else if (DiffusersUnetBlocks.Any(p => n.StartsWith(p, StringComparison.Ordinal)))
            {
                diffusers ??= full;
                if (Index(n, "down_blocks.") is int k)
                {
                    maxDown = Math.Max(maxDown, k);
                    string rest = n[(n.IndexOf('.', "down_blocks.".Length) + 1)..];
                    if (Index(rest, "resnets.") is int j) maxResnet = Math.Max(maxResnet, j);
                }
                if (Index(n, "up_blocks.") is int u && n[(n.IndexOf('.', "up_blocks.".Length) + 1)..].StartsWith("attentions.", StringComparison.Ordinal))
                    anatomy._upBlocksWithAttention.Add(u);
            }
        }
        if (ldm != null && diffusers != null)
            throw new EvoMergeException($"the UNet's tensor names mix the single-file naming ('{ldm}') and the diffusers naming ('{diffusers}'); a checkpoint must use one");
        anatomy._ldmUnet = ldm != null;
        if (ldm != null)
        {
            anatomy._inputBlocks = maxIn + 1;
            anatomy._outputBlocks = maxOut + 1;
            // The first downsampler closes down block 0: input_blocks.(L+1).0.op; a UNet of one down block has none.
            anatomy._layersPerBlock = firstDownsampler != int.MaxValue ? firstDownsampler - 1 : maxIn;
        }
        else if (diffusers != null)
        {
            anatomy._layersPerBlock = maxResnet + 1;
            // Each down block: its resnets, then a downsampler except the last; plus block 0 (conv_in): D·(L+1).
            anatomy._inputBlocks = (maxDown + 1) * (maxResnet + 2);
            anatomy._outputBlocks = anatomy._inputBlocks;   // each up block has L+1 resnets, the upsampler with the last
        }
        if (anatomy._inputBlocks + anatomy._outputBlocks + 1 > SanityBounds.MaxLayers)
            throw new EvoMergeException($"the UNet has {anatomy._inputBlocks + anatomy._outputBlocks + 1} blocks; at most {SanityBounds.MaxLayers} are supported");
        return anatomy;
    }

    /// <summary>The number after <paramref name="prefix"/> at the start of <paramref name="name"/>, when followed by a dot.</summary>
    static int? Index(string name, string prefix)
    {
        if (!name.StartsWith(prefix, StringComparison.Ordinal)) return null;
        int start = prefix.Length, end = start;
        while (end < name.Length && char.IsAsciiDigit(name[end])) end++;
        if (end == start || end == name.Length || name[end] != '.' || end - start > 6) return null;
        return int.Parse(name.AsSpan(start, end - start), NumberStyles.None, CultureInfo.InvariantCulture);
    }

    /// <summary>The number of digits at <paramref name="start"/> of <paramref name="name"/>.</summary>
    static int Digits(string name, int start)
    {
        int end = start;
        while (end < name.Length && char.IsAsciiDigit(name[end])) end++;
        return end - start;
    }

    /// <summary>The number of UNet blocks (the layers of a diffusion checkpoint): IN, the middle block, OUT.</summary>
    public int UnetBlocks => IsDiffusion && _inputBlocks > 0 ? _inputBlocks + 1 + _outputBlocks : 0;

    /// <summary>A block's name as block-weighted merges write it: <c>IN00</c>, <c>M00</c>, <c>OUT08</c>.</summary>
    public string BlockName(int block) =>
        block < _inputBlocks ? $"IN{block:D2}" : block == _inputBlocks ? "M00" : $"OUT{block - _inputBlocks - 1:D2}";

    /// <summary>The module of a tensor of a diffusion checkpoint and its name inside that module.</summary>
    public (ModelModule Module, string Inner)? DiffusionComponent(string name)
    {
        switch (Diffusion)
        {
            case DiffusionLayout.Pipeline:
                foreach (var (folder, module) in PipelineComponents)
                    if (name.Length > folder.Length && name.StartsWith(folder, StringComparison.Ordinal) && name[folder.Length] == '.')
                        return (module, name[(folder.Length + 1)..]);
                return null;
            case DiffusionLayout.SingleFile:
                foreach (var (prefix, module) in SingleFileModules)
                    if (name.StartsWith(prefix, StringComparison.Ordinal)) return (module, name[prefix.Length..]);
                return (ModelModule.Unet, name);   // scheduler buffers and EMA bookkeeping of old checkpoints
            case DiffusionLayout.DiffusersUnet:
                return (ModelModule.Unet, name);
            default:
                return null;
        }
    }

    string? UnetName(string name) => DiffusionComponent(name) is { Module: ModelModule.Unet } c && (Diffusion != DiffusionLayout.SingleFile
        || name.StartsWith("model.diffusion_model.", StringComparison.Ordinal)) ? c.Inner : null;

    TensorPlace DiffusionPlace(string name)
    {
        var component = DiffusionComponent(name);
        if (component is not { Module: ModelModule.Unet }) return TensorPlace.Of(TensorRole.Other, component?.Module ?? ModelModule.Unet);
        int block = UnetBlock(name);
        if (block < 0) return TensorPlace.Of(TensorRole.Other, ModelModule.Unet);
        string inner = component.Value.Inner;
        bool attention = AttentionProjections.Any(p => inner.Contains(p, StringComparison.Ordinal));
        return TensorPlace.OfLayer(block, attention ? TensorPart.Attention : TensorPart.Convolution, ModelModule.Unet);
    }

    /// <summary>The block of a UNet tensor (see the class comment), or −1 for a tensor outside the UNet's blocks.</summary>
    int UnetBlock(string name)
    {
        if (UnetName(name) is not string n || _inputBlocks == 0) return -1;
        int last = _inputBlocks + _outputBlocks;
        if (_ldmUnet)
        {
            if (Index(n, "input_blocks.") is int i) return i;
            if (n.StartsWith("middle_block.", StringComparison.Ordinal)) return _inputBlocks;
            if (Index(n, "output_blocks.") is int o) return _inputBlocks + 1 + o;
            if (n.StartsWith("time_embed.", StringComparison.Ordinal) || n.StartsWith("label_emb.", StringComparison.Ordinal)) return 0;
            if (n.StartsWith("out.", StringComparison.Ordinal)) return last;
            return -1;
        }
        if (DiffusersUnetTop.Any(p => n.StartsWith(p, StringComparison.Ordinal))) return 0;
        if (DiffusersUnetBottom.Any(p => n.StartsWith(p, StringComparison.Ordinal))) return last;
        if (n.StartsWith("mid_block.", StringComparison.Ordinal)) return _inputBlocks;
        int stride = _layersPerBlock + 1;
        if (Index(n, "down_blocks.") is int k) return 1 + k * stride + Position(n, "down_blocks.");
        if (Index(n, "up_blocks.") is int u) return _inputBlocks + 1 + u * stride + Position(n, "up_blocks.");
        return -1;
    }

    /// <summary>Inside a diffusers down or up block: resnet/attention j is at j, the down- or upsampler after the last resnet.</summary>
    int Position(string n, string prefix)
    {
        string rest = n[(n.IndexOf('.', prefix.Length) + 1)..];
        if (Index(rest, "resnets.") is int j) return j;
        if (Index(rest, "attentions.") is int a) return a;
        if (rest.StartsWith("downsamplers.", StringComparison.Ordinal)) return _layersPerBlock;
        if (rest.StartsWith("upsamplers.", StringComparison.Ordinal)) return _layersPerBlock;
        return 0;
    }
}
