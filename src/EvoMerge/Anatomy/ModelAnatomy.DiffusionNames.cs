using System.Globalization;

namespace EvoMerge.Anatomy;

/// <summary>
/// A tensor's name in another naming of the same module, or of rows <see cref="Part"/> of <see cref="Parts"/> equal
/// row blocks of it: OpenCLIP's fused <c>attn.in_proj_weight</c> is q, k and v stacked, so <c>self_attn.k_proj.weight</c>
/// is part 1 of 3. The name is the module's inner name, without a checkpoint's component prefix.
/// </summary>
public readonly record struct TensorAlias(string Name, int Part = 0, int Parts = 1);

/// <summary>
/// The two namings of Stable Diffusion's modules, one map each way. The UNet: the original (LDM/SGM) names of
/// single-file checkpoints and of sd-scripts' SDXL LoRAs (<c>input_blocks.4.1.…</c>, <c>middle_block.1.…</c>,
/// <c>output_blocks.2.2.conv</c>) and diffusers' names (<c>down_blocks.1.attentions.0.…</c>, <c>mid_block.attentions.0.…</c>,
/// <c>up_blocks.0.upsamplers.0.conv</c>). The map is derived from the structure the names show (layers per block,
/// which up blocks have attention), the same for SD 1.x/2.x and SDXL: input block 0 is conv_in; then down block i's
/// pair j is input block 1 + i·(L+1) + j (its resnet sub-module 0, its transformer 1) and its downsampler input block
/// (i+1)·(L+1) (<c>0.op</c>); the middle block is resnet, transformer, resnet; up block i's pair j is output block
/// i·(L+1) + j and its upsampler the last sub-module (1, or 2 after a transformer) of output block i·(L+1) + L.
/// Inside a resnet: in_layers.0/2 = norm1/conv1, emb_layers.1 = time_emb_proj, out_layers.0/3 = norm2/conv2,
/// skip_connection = conv_shortcut; transformers are named alike in both. The text encoders: OpenCLIP's towers
/// (SDXL's second encoder, SD 2.x's only one, in single files: <c>transformer.resblocks.N.…</c>) under Hugging Face
/// CLIP's names (<c>text_model.encoder.layers.N.…</c>), which is how LoRAs name them.
/// </summary>
public sealed partial class ModelAnatomy
{
    static readonly (string Ldm, string Diffusers)[] UnetTop =
    [
        ("input_blocks.0.0.", "conv_in."), ("time_embed.0.", "time_embedding.linear_1."), ("time_embed.2.", "time_embedding.linear_2."),
        ("label_emb.0.0.", "add_embedding.linear_1."), ("label_emb.0.2.", "add_embedding.linear_2."),
        ("out.0.", "conv_norm_out."), ("out.2.", "conv_out."),
    ];

    static readonly (string Ldm, string Diffusers)[] Resnet =
    [
        ("in_layers.0.", "norm1."), ("in_layers.2.", "conv1."), ("emb_layers.1.", "time_emb_proj."),
        ("out_layers.0.", "norm2."), ("out_layers.3.", "conv2."), ("skip_connection.", "conv_shortcut."),
    ];

    /// <summary>OpenCLIP text tower → Hugging Face CLIP, inside a residual block.</summary>
    static readonly (string OpenClip, string Clip)[] OpenClipBlock =
    [
        ("attn.out_proj.", "self_attn.out_proj."), ("ln_1.", "layer_norm1."), ("ln_2.", "layer_norm2."),
        ("mlp.c_fc.", "mlp.fc1."), ("mlp.c_proj.", "mlp.fc2."),
    ];

    static readonly (string OpenClip, string Clip)[] OpenClipTop =
    [
        ("token_embedding.weight", "text_model.embeddings.token_embedding.weight"),
        ("positional_embedding", "text_model.embeddings.position_embedding.weight"),
        ("ln_final.", "text_model.final_layer_norm."),
    ];

    /// <summary>
    /// The names of tensor <paramref name="name"/> of this checkpoint in the module's other naming: a UNet tensor's
    /// diffusers name when the checkpoint uses the LDM names and the reverse; for an OpenCLIP text encoder's tensor, its
    /// Hugging Face CLIP name (three parts for the fused q/k/v projection). Empty when there is none (the VAE, the text
    /// projection that OpenCLIP stores transposed, a language model).
    /// </summary>
    public IReadOnlyList<TensorAlias> OtherNamings(string name)
    {
        if (DiffusionComponent(name) is not { } component) return [];
        if (component.Module == ModelModule.Unet)
        {
            if (UnetName(name) is not string inner) return [];
            string? other = _ldmUnet ? DiffusersName(inner) : LdmName(inner);
            return other == null ? [] : [new TensorAlias(other)];
        }
        return component.Module is ModelModule.TextEncoder or ModelModule.TextEncoder2 ? ClipNames(component.Inner) : [];
    }

    /// <summary>An LDM UNet name (without <c>model.diffusion_model.</c>) in diffusers' naming.</summary>
    string? DiffusersName(string n)
    {
        foreach (var (ldm, diffusers) in UnetTop)
            if (n.StartsWith(ldm, StringComparison.Ordinal)) return diffusers + n[ldm.Length..];
        int stride = _layersPerBlock + 1;
        if (Block(n, "input_blocks.") is (var k, var m, var rest) && k >= 1)
        {
            int i = (k - 1) / stride, j = (k - 1) % stride;
            if (j == _layersPerBlock)
                return m == 0 && rest.StartsWith("op.", StringComparison.Ordinal) ? $"down_blocks.{i}.downsamplers.0.conv.{rest[3..]}" : null;
            return m == 0 ? ResnetName($"down_blocks.{i}.resnets.{j}.", rest, toDiffusers: true)
                : m == 1 ? $"down_blocks.{i}.attentions.{j}.{rest}" : null;
        }
        if (Index(n, "middle_block.") is int mm && After(n, "middle_block.") is var mrest)
            return mm switch
            {
                0 => ResnetName("mid_block.resnets.0.", mrest, toDiffusers: true),
                1 => $"mid_block.attentions.0.{mrest}",
                2 => ResnetName("mid_block.resnets.1.", mrest, toDiffusers: true),
                _ => null,
            };
        if (Block(n, "output_blocks.") is (var o, var om, var orest))
        {
            int i = o / stride, j = o % stride;
            if (om == 0) return ResnetName($"up_blocks.{i}.resnets.{j}.", orest, toDiffusers: true);
            // An upsampler holds only its convolution; a transformer has no tensor named conv.
            if (orest.StartsWith("conv.", StringComparison.Ordinal)) return j == _layersPerBlock ? $"up_blocks.{i}.upsamplers.0.{orest}" : null;
            return om == 1 ? $"up_blocks.{i}.attentions.{j}.{orest}" : null;
        }
        return null;
    }

    /// <summary>A diffusers UNet name (inside <c>unet/</c>) in the LDM naming.</summary>
    string? LdmName(string n)
    {
        foreach (var (ldm, diffusers) in UnetTop)
            if (n.StartsWith(diffusers, StringComparison.Ordinal)) return ldm + n[diffusers.Length..];
        int stride = _layersPerBlock + 1;
        if (Index(n, "down_blocks.") is int i)
        {
            string rest = After(n, "down_blocks.");
            if (Block(rest, "resnets.") is (var j, _, _)) return ResnetName($"input_blocks.{1 + i * stride + j}.0.", After(rest, "resnets."), toDiffusers: false);
            if (Block(rest, "attentions.") is (var a, _, _)) return $"input_blocks.{1 + i * stride + a}.1.{After(rest, "attentions.")}";
            if (rest.StartsWith("downsamplers.0.conv.", StringComparison.Ordinal)) return $"input_blocks.{(i + 1) * stride}.0.op.{rest["downsamplers.0.conv.".Length..]}";
            return null;
        }
        if (n.StartsWith("mid_block.", StringComparison.Ordinal))
        {
            string rest = n["mid_block.".Length..];
            if (Block(rest, "resnets.") is (var j, _, _) && j <= 1) return ResnetName($"middle_block.{2 * j}.", After(rest, "resnets."), toDiffusers: false);
            if (rest.StartsWith("attentions.0.", StringComparison.Ordinal)) return $"middle_block.1.{rest["attentions.0.".Length..]}";
            return null;
        }
        if (Index(n, "up_blocks.") is int u)
        {
            string rest = After(n, "up_blocks.");
            if (Block(rest, "resnets.") is (var j, _, _)) return ResnetName($"output_blocks.{u * stride + j}.0.", After(rest, "resnets."), toDiffusers: false);
            if (Block(rest, "attentions.") is (var a, _, _)) return $"output_blocks.{u * stride + a}.1.{After(rest, "attentions.")}";
            if (rest.StartsWith("upsamplers.0.", StringComparison.Ordinal))
                return $"output_blocks.{u * stride + _layersPerBlock}.{(_upBlocksWithAttention.Contains(u) ? 2 : 1)}.{rest["upsamplers.0.".Length..]}";
        }
        return null;
    }

    /// <summary>A resnet's tensor <paramref name="rest"/> renamed under <paramref name="prefix"/>; null for a name neither naming has.</summary>
    static string? ResnetName(string prefix, string rest, bool toDiffusers)
    {
        foreach (var (ldm, diffusers) in Resnet)
        {
            var (from, to) = toDiffusers ? (ldm, diffusers) : (diffusers, ldm);
            if (rest.StartsWith(from, StringComparison.Ordinal)) return prefix + to + rest[from.Length..];
        }
        return null;
    }

    /// <summary>
    /// <c>prefix</c>K.M.rest → (K, M, rest), or (K, −1, the text after K.) when no second number follows; null when
    /// <paramref name="n"/> does not start with <paramref name="prefix"/> and a number.
    /// </summary>
    static (int K, int M, string Tail)? Block(string n, string prefix)
    {
        if (Index(n, prefix) is not int k) return null;
        string after = n[(prefix.Length + Digits(n, prefix.Length) + 1)..];
        int digits = Digits(after, 0);
        if (digits is 0 or > 6 || digits == after.Length || after[digits] != '.') return (k, -1, after);
        return (k, int.Parse(after.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture), after[(digits + 1)..]);
    }

    /// <summary>The text after <paramref name="prefix"/> and its number.</summary>
    static string After(string n, string prefix) => n[(prefix.Length + Digits(n, prefix.Length) + 1)..];

    /// <summary>An OpenCLIP text tower's tensor (inner name, e.g. <c>model.transformer.resblocks.3.attn.in_proj_weight</c>) under CLIP's names.</summary>
    static IReadOnlyList<TensorAlias> ClipNames(string inner)
    {
        const string blocks = "transformer.resblocks.";
        int at = inner.IndexOf(blocks, StringComparison.Ordinal);
        if (at >= 0 && Block(inner[at..], blocks) is (var layer, _, _))
        {
            string rest = After(inner[at..], blocks), layerName = $"text_model.encoder.layers.{layer}.";
            if (rest is "attn.in_proj_weight" or "attn.in_proj_bias")
            {
                string kind = rest == "attn.in_proj_weight" ? "weight" : "bias";
                return [new(layerName + "self_attn.q_proj." + kind, 0, 3), new(layerName + "self_attn.k_proj." + kind, 1, 3), new(layerName + "self_attn.v_proj." + kind, 2, 3)];
            }
            foreach (var (open, clip) in OpenClipBlock)
                if (rest.StartsWith(open, StringComparison.Ordinal)) return [new TensorAlias(layerName + clip + rest[open.Length..])];
            return [];
        }
        // The tower's own tensors sit right under its root (SDXL: conditioner.embedders.1.model.; SD 2.x: cond_stage_model.model.).
        if (!inner.StartsWith("model.", StringComparison.Ordinal) || inner.Contains(".transformer.", StringComparison.Ordinal)) return [];
        string top = inner["model.".Length..];
        foreach (var (open, clip) in OpenClipTop)
            if (top.StartsWith(open, StringComparison.Ordinal)) return [new TensorAlias(clip + top[open.Length..])];
        return [];
    }
}
