using System.Text.Json.Nodes;

namespace EvoMerge.Torch.Diffusion.Model;

/// <summary>
/// The shape of a <c>UNet2DConditionModel</c>, read from and written to diffusers' <c>unet/config.json</c> with its
/// field names. Supported: <c>DownBlock2D</c>/<c>CrossAttnDownBlock2D</c>, <c>UNetMidBlock2DCrossAttn</c>,
/// <c>UpBlock2D</c>/<c>CrossAttnUpBlock2D</c>, linear projections in the transformers (SDXL's), SiLU, no added
/// (text-time) embedding. <c>attention_head_dim</c> is, as in diffusers and SDXL's config, the number of heads.
/// </summary>
public sealed record UNetConfig
{
    public int SampleSize { get; init; } = 16;
    public int InChannels { get; init; } = 3;
    public int OutChannels { get; init; } = 3;
    public int[] BlockOutChannels { get; init; } = [32, 64];
    public string[] DownBlockTypes { get; init; } = ["DownBlock2D", "CrossAttnDownBlock2D"];
    public string[] UpBlockTypes { get; init; } = ["CrossAttnUpBlock2D", "UpBlock2D"];
    public int LayersPerBlock { get; init; } = 1;
    public int CrossAttentionDim { get; init; } = 64;
    /// <summary>Heads per block (diffusers' <c>attention_head_dim</c>, which counts heads).</summary>
    public int[] AttentionHeads { get; init; } = [2, 2];
    public int TransformerLayersPerBlock { get; init; } = 1;
    public int NormNumGroups { get; init; } = 8;
    public double NormEps { get; init; } = 1e-5;
    public bool FlipSinToCos { get; init; } = true;
    public int FreqShift { get; init; }

    public int Blocks => BlockOutChannels.Length;
    public int TimeEmbeddingDim => 4 * BlockOutChannels[0];

    public static UNetConfig Load(string path)
    {
        var j = ConfigJson.Load(path);
        var down = j.Strings("down_block_types", ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"]);
        int n = down.Length;
        if (n is < 1 or > 8) throw j.Bad("down_block_types", "a list of 1 to 8 block types");
        var channels = j.Ints("block_out_channels", [320, 640, 1280, 1280], n, max: 4096);
        var c = new UNetConfig
        {
            SampleSize = j.Int("sample_size", 16, max: 4096),
            InChannels = j.Int("in_channels", 4, max: 64),
            OutChannels = j.Int("out_channels", 4, max: 64),
            BlockOutChannels = channels,
            DownBlockTypes = down,
            UpBlockTypes = j.Strings("up_block_types", ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]),
            LayersPerBlock = j.Int("layers_per_block", 2, max: 16),
            CrossAttentionDim = j.Int("cross_attention_dim", 1280, max: 1 << 16),
            AttentionHeads = j.Ints("attention_head_dim", Enumerable.Repeat(8, n).ToArray(), n, max: 1024),
            TransformerLayersPerBlock = j.Int("transformer_layers_per_block", 1, max: 64),
            NormNumGroups = j.Int("norm_num_groups", 32, max: 4096),
            NormEps = j.Double("norm_eps", 1e-5),
            FlipSinToCos = j.Bool("flip_sin_to_cos", true),
            FreqShift = j.Int("freq_shift", 0, min: 0, max: 16),
        };
        if (j.String("mid_block_type", "UNetMidBlock2DCrossAttn") != "UNetMidBlock2DCrossAttn")
            throw j.Bad("mid_block_type", "\"UNetMidBlock2DCrossAttn\"");
        if (!j.Bool("use_linear_projection", true)) throw j.Bad("use_linear_projection", "true (SDXL's linear projections; 1×1 convolutions are not supported)");
        if (j.String("act_fn", "silu") != "silu") throw j.Bad("act_fn", "\"silu\"");
        c.Validate(path);
        return c;
    }

    void Validate(string path)
    {
        int n = Blocks;
        if (DownBlockTypes.Length != n || UpBlockTypes.Length != n)
            throw new EvoMergeException($"{path}: down_block_types, up_block_types and block_out_channels must have the same length ({n})");
        foreach (var t in DownBlockTypes)
            if (t is not ("DownBlock2D" or "CrossAttnDownBlock2D")) throw new EvoMergeException($"{path}: field 'down_block_types' has '{t}'; expected DownBlock2D or CrossAttnDownBlock2D");
        foreach (var t in UpBlockTypes)
            if (t is not ("UpBlock2D" or "CrossAttnUpBlock2D")) throw new EvoMergeException($"{path}: field 'up_block_types' has '{t}'; expected UpBlock2D or CrossAttnUpBlock2D");
        foreach (int ch in BlockOutChannels)
            if (ch % NormNumGroups != 0) throw new EvoMergeException($"{path}: block_out_channels ({ch}) must be multiples of norm_num_groups ({NormNumGroups})");
        for (int i = 0; i < n; i++)
            if (BlockOutChannels[i] % AttentionHeads[i] != 0) throw new EvoMergeException($"{path}: block_out_channels[{i}] ({BlockOutChannels[i]}) must be a multiple of attention_head_dim[{i}] ({AttentionHeads[i]})");
        if (SampleSize % (1 << (n - 1)) != 0) throw new EvoMergeException($"{path}: sample_size ({SampleSize}) must be divisible by {1 << (n - 1)}");
    }

    public JsonObject ToJson() => new()
    {
        ["_class_name"] = "UNet2DConditionModel",
        ["sample_size"] = SampleSize,
        ["in_channels"] = InChannels,
        ["out_channels"] = OutChannels,
        ["block_out_channels"] = new JsonArray(BlockOutChannels.Select(c => (JsonNode)c).ToArray()),
        ["down_block_types"] = new JsonArray(DownBlockTypes.Select(t => (JsonNode)t).ToArray()),
        ["mid_block_type"] = "UNetMidBlock2DCrossAttn",
        ["up_block_types"] = new JsonArray(UpBlockTypes.Select(t => (JsonNode)t).ToArray()),
        ["layers_per_block"] = LayersPerBlock,
        ["cross_attention_dim"] = CrossAttentionDim,
        ["attention_head_dim"] = new JsonArray(AttentionHeads.Select(h => (JsonNode)h).ToArray()),
        ["transformer_layers_per_block"] = TransformerLayersPerBlock,
        ["norm_num_groups"] = NormNumGroups,
        ["norm_eps"] = NormEps,
        ["flip_sin_to_cos"] = FlipSinToCos,
        ["freq_shift"] = FreqShift,
        ["use_linear_projection"] = true,
        ["act_fn"] = "silu",
        ["center_input_sample"] = false,
    };
}
