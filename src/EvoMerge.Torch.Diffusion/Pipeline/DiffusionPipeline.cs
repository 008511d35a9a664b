using System.Text.Json.Nodes;
using EvoMerge.IO;
using EvoMerge.Tokenization;
using EvoMerge.Torch.Diffusion.Model;
using EvoMerge.Torch.Diffusion.Scheduling;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Diffusion.Pipeline;

/// <summary>
/// A pixel-space text-to-image pipeline in diffusers' folder layout: <c>model_index.json</c>, <c>unet/</c>
/// (config.json, diffusion_pytorch_model.safetensors), <c>text_encoder/</c> (config.json, model.safetensors),
/// <c>tokenizer/</c> (tokenizer.json) and <c>scheduler/scheduler_config.json</c>. There is no VAE: the UNet works on
/// the RGB pixels in [−1, 1]. Sampling is DDIM with no classifier-free guidance (guidance scale 0, as
/// EvoSDXL-JP and SDXL-Lightning sample), and each image's starting noise comes from its own seed, so an image is
/// the same whatever else is in the batch.
/// </summary>
public sealed class DiffusionPipeline : IDisposable
{
    public const string ClassName = "EvoMergeMiniaturePipeline";
    public const string UNetFile = "diffusion_pytorch_model.safetensors";

    public UNet2DConditionModel Unet { get; }
    public ClipTextModel TextEncoder { get; }
    public ITokenizer Tokenizer { get; }
    public NoiseSchedule Schedule { get; }

    public DiffusionPipeline(UNet2DConditionModel unet, ClipTextModel textEncoder, ITokenizer tokenizer, NoiseSchedule schedule)
    {
        Unet = unet;
        TextEncoder = textEncoder;
        Tokenizer = tokenizer;
        Schedule = schedule;
        Unet.eval();
        TextEncoder.eval();
    }

    /// <summary>A pipeline with freshly initialised weights (torch's generator decides them: seed it first).</summary>
    public static DiffusionPipeline Create(UNetConfig unet, ClipTextConfig text, NoiseSchedule schedule, ITokenizer tokenizer) =>
        new(new UNet2DConditionModel(unet), new ClipTextModel(text), tokenizer, schedule);

    /// <summary>An independent copy with the same weights and the same tokenizer object (a distillation student, a merge target).</summary>
    public DiffusionPipeline Copy()
    {
        var copy = new DiffusionPipeline(new UNet2DConditionModel(Unet.Config), new ClipTextModel(TextEncoder.Config), Tokenizer, Schedule);
        CopyWeightsFrom(this, copy);
        return copy;
    }

    static void CopyWeightsFrom(DiffusionPipeline from, DiffusionPipeline to)
    {
        using var _ = no_grad();
        foreach (var (source, target) in new (nn.Module, nn.Module)[] { (from.Unet, to.Unet), (from.TextEncoder, to.TextEncoder) })
        {
            var values = source.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            foreach (var (name, p) in target.named_parameters()) p.copy_(values[name]);
        }
    }

    public static DiffusionPipeline Load(string folder)
    {
        string index = Path.Combine(folder, "model_index.json");
        InputFile.Require(index, "diffusion pipeline's model_index.json");
        var unet = new UNet2DConditionModel(UNetConfig.Load(Path.Combine(folder, "unet", "config.json")));
        var text = new ClipTextModel(ClipTextConfig.Load(Path.Combine(folder, "text_encoder", "config.json")));
        var pipeline = new DiffusionPipeline(unet, text, TokenizerFactory.FromFolder(Path.Combine(folder, "tokenizer"), text.Config.VocabSize),
            NoiseSchedule.Load(Path.Combine(folder, "scheduler", "scheduler_config.json")));
        try
        {
            ModuleWeights.Load(unet, Path.Combine(folder, "unet", UNetFile));
            ModuleWeights.Load(text, Path.Combine(folder, "text_encoder", SafetensorsModel.SingleFileName));
            if (pipeline.Tokenizer.VocabSize > text.Config.VocabSize)
                throw new EvoMergeException($"{folder}: the tokenizer has {pipeline.Tokenizer.VocabSize} tokens, text_encoder/config.json's vocab_size is {text.Config.VocabSize}");
            return pipeline;
        }
        catch
        {
            pipeline.Dispose();
            throw;
        }
    }

    /// <summary>Writes the pipeline folder atomically; <paramref name="writeTokenizer"/> fills <c>tokenizer/</c>.</summary>
    public void Save(string folder, Action<string> writeTokenizer, IEnumerable<string>? inputs = null) =>
        OutputFolder.Write(folder, partial => WriteInto(partial, writeTokenizer), inputs);

    /// <summary>Writes the pipeline's files into an existing empty folder (a partial output folder of the caller's).</summary>
    public void WriteInto(string partial, Action<string> writeTokenizer)
    {
        ConfigJson.Write(Path.Combine(partial, "model_index.json"), new JsonObject
        {
            ["_class_name"] = ClassName,
            ["unet"] = new JsonArray("diffusers", "UNet2DConditionModel"),
            ["text_encoder"] = new JsonArray("transformers", "CLIPTextModel"),
            ["tokenizer"] = new JsonArray("transformers", "PreTrainedTokenizerFast"),
            ["scheduler"] = new JsonArray("diffusers", "DDIMScheduler"),
        });
        string Dir(string name) => Directory.CreateDirectory(Path.Combine(partial, name)).FullName;
        string unet = Dir("unet"), text = Dir("text_encoder"), scheduler = Dir("scheduler");
        ConfigJson.Write(Path.Combine(unet, "config.json"), Unet.Config.ToJson());
        ModuleWeights.Save(Unet, unet, UNetFile);
        ConfigJson.Write(Path.Combine(text, "config.json"), TextEncoder.Config.ToJson());
        ModuleWeights.Save(TextEncoder, text, SafetensorsModel.SingleFileName);
        ConfigJson.Write(Path.Combine(scheduler, "scheduler_config.json"), Schedule.ToJson());
        writeTokenizer(Dir("tokenizer"));
    }

    /// <summary>Token ids [prompts, max positions]: BOS, the prompt, EOS, then the tokenizer's EOS as padding (CLIP's convention).</summary>
    public Tensor TokenIds(IReadOnlyList<string> prompts)
    {
        int length = TextEncoder.Config.MaxPositionEmbeddings;
        int pad = Tokenizer.EosId ?? 0;
        var ids = new long[prompts.Count * length];
        for (int i = 0; i < prompts.Count; i++)
        {
            var tokens = Tokenizer.Encode(prompts[i], addBos: Tokenizer.BosId.HasValue).ToList();
            if (Tokenizer.EosId is int eos) tokens.Add(eos);
            if (tokens.Count > length)
                throw new EvoMergeException($"prompt '{prompts[i]}' has {tokens.Count} tokens; the text encoder takes at most {length}");
            for (int k = 0; k < length; k++) ids[i * length + k] = k < tokens.Count ? tokens[k] : pad;
        }
        return tensor(ids, [prompts.Count, length]);
    }

    /// <summary>The text encoder's states for <paramref name="prompts"/>: [prompts, tokens, hidden].</summary>
    public Tensor Encode(IReadOnlyList<string> prompts)
    {
        using var scope = NewDisposeScope();
        return TextEncoder.Forward(TokenIds(prompts)).MoveToOuterDisposeScope();
    }

    /// <summary>The starting noise of one image: standard normal from a generator seeded with <paramref name="seed"/>.</summary>
    public Tensor InitialNoise(long seed)
    {
        using var generator = new Generator((ulong)seed);
        var c = Unet.Config;
        return randn([1, c.InChannels, c.SampleSize, c.SampleSize], generator: generator);
    }

    /// <summary>
    /// Images for <paramref name="prompts"/> in [−1, 1], [prompts, channels, size, size]: DDIM with
    /// <paramref name="steps"/> steps from each prompt's seeded noise.
    /// </summary>
    public Tensor Generate(IReadOnlyList<string> prompts, IReadOnlyList<long> seeds, int steps)
    {
        if (prompts.Count != seeds.Count) throw new ArgumentException("one seed per prompt", nameof(seeds));
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var context = Encode(prompts);
        var x = cat(seeds.Select(InitialNoise).ToArray(), 0);
        var timesteps = Schedule.Timesteps(steps);
        foreach (int t in timesteps)
        {
            var epsilon = Unet.Forward(x, full([prompts.Count], t, ScalarType.Int64), context);
            x = Ddim.Step(Schedule, x, epsilon, t, Schedule.PreviousTimestep(t, steps));
        }
        return x.clamp(-1, 1).MoveToOuterDisposeScope();
    }

    /// <summary>Frees the modules; the tokenizer may be shared with copies and is left to the garbage collector.</summary>
    public void Dispose()
    {
        Unet.Dispose();
        TextEncoder.Dispose();
    }
}
