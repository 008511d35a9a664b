using System.ComponentModel;
using System.Text.Encodings.Web;
using System.Text.Json;
using EvoMerge.Evaluation;
using EvoMerge.Tokenization;
using EvoMerge.Torch.Vision.Model;
using EvoMerge.Torch.Vision.Runtime;
using EvoMerge.Torch.Generation;
using EvoMerge.Torch.Runtime;
using Spectre.Console.Cli;

namespace EvoMerge.Cli.Commands;

/// <summary><c>evomerge generate</c>: a quick look at a model's output; the text alone goes to stdout.</summary>
public sealed class GenerateCommand : Command<GenerateCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<model>")]
        [Description("Model folder, .safetensors file or cached Hugging Face id (org/name[@rev]).")]
        public string Model { get; init; } = "";

        [CommandArgument(1, "[prompt]")]
        [Description("Prompt text; empty or absent starts from BOS alone.")]
        public string Prompt { get; init; } = "";

        [CommandOption("--max-new-tokens <N>")]
        [Description("Most tokens to generate (default 128).")]
        public int MaxNewTokens { get; init; } = 128;

        [CommandOption("--temperature <T>")]
        [Description("0 (default) is greedy; above 0 samples.")]
        public float Temperature { get; init; }

        [CommandOption("--top-p <P>")]
        [Description("Nucleus sampling mass (default 1 = off).")]
        public float TopP { get; init; } = 1;

        [CommandOption("--num-beams <K>")]
        [Description("Beam search with K beams (default 1: greedy or sampling; EvoVLM-JP's evaluation used 5).")]
        public int NumBeams { get; init; } = 1;

        [CommandOption("--repetition-penalty <P>")]
        [Description("Penalty on tokens already in the sequence (default 1: off; EvoVLM-JP's evaluation used 1.5).")]
        public float RepetitionPenalty { get; init; } = 1;

        [CommandOption("--seed <N>")]
        [Description("Sampling seed (default 0).")]
        public int Seed { get; init; }

        [CommandOption("--chat")]
        [Description("Wrap the prompt in the model's chat template (tokenizer_config.json).")]
        public bool Chat { get; init; }

        [CommandOption("--system <TEXT>")]
        [Description("System prompt for --chat.")]
        public string? System { get; init; }

        [CommandOption("--json")]
        [Description("Print a JSON object with the text, prompt ids and generated ids.")]
        public bool Json { get; init; }

        [CommandOption("--device <DEVICE>")]
        [Description("cpu (default), cuda or cuda:N.")]
        public string Device { get; init; } = "cpu";

        [CommandOption("--dtype <DTYPE>")]
        [Description("f32 (default) or bf16.")]
        public string DType { get; init; } = "f32";

        [CommandOption("--image <PATH>")]
        [Description("An image for a vision-language (llava) model; repeat for several. The prompt marks each with <image>, else they go first.")]
        public string[] Images { get; init; } = [];

        [CommandOption("--threads <N>")]
        [Description("CPU threads for libtorch (default: all cores).")]
        public int Threads { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (settings.MaxNewTokens < 0) throw new EvoMergeException("--max-new-tokens: expected 0 or more");
        DeviceOptions.UseThreads(settings.Threads > 0 ? settings.Threads : null);
        if (settings.Images.Length > 0) return GenerateWithImages(settings);
        using var loaded = LoadedModel.Load(settings.Model, DeviceOptions.ParseDevice(settings.Device), DeviceOptions.ParseDType(settings.DType),
            Console.IsErrorRedirected ? null : new LoadingProgress());
        if (!Console.IsErrorRedirected) Console.Error.Write("\r\u001b[2K");   // clear the progress line before the text
        string prompt = settings.Prompt;
        if (settings.Chat)
        {
            var template = ChatTemplate.Recognize(loaded.Special.ChatTemplate, loaded.Special.Eos, Path.Combine(loaded.Folder, "tokenizer_config.json"));
            var messages = new List<ChatMessage>();
            if (settings.System != null) messages.Add(new ChatMessage("system", settings.System));
            messages.Add(new ChatMessage("user", prompt));
            prompt = template.Render(messages);
        }
        var promptIds = loaded.Tokenizer.Encode(prompt, addBos: true);
        if (promptIds.Count == 0)
            throw new EvoMergeException($"{loaded.Folder}: the tokenizer has no BOS token, so an empty prompt cannot start generation; give a prompt");
        var ids = TokenGenerator.Generate(loaded.Model, [promptIds],
            new SamplingOptions(settings.MaxNewTokens, settings.Temperature, settings.TopP, settings.Seed, settings.NumBeams, settings.RepetitionPenalty), loaded.Tokenizer.EosId)[0];
        string text = loaded.Tokenizer.Decode(ids);
        if (settings.Json)
            Console.Out.WriteLine(JsonSerializer.Serialize(new { text, prompt, prompt_ids = promptIds, ids },
                new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));   // Japanese stays readable
        else
            Console.Out.WriteLine(text);
        return 0;
    }

    /// <summary>A llava folder with <c>--image</c>: the images' features fill the prompt's image marks.</summary>
    static int GenerateWithImages(Settings settings)
    {
        if (settings.Chat) throw new EvoMergeException("--chat with --image: write the prompt in the model's format instead (see docs/vlm.md)");
        using var loaded = LoadedVlm.Load(settings.Model, DeviceOptions.ParseDevice(settings.Device), DeviceOptions.ParseDType(settings.DType));
        string prompt = settings.Prompt.Contains(IVisionLanguageModel.ImagePlaceholder, StringComparison.Ordinal)
            ? settings.Prompt
            : string.Concat(settings.Images.Select(_ => IVisionLanguageModel.ImagePlaceholder + "\n")) + settings.Prompt;
        var model = new TorchVisionLanguageModel(loaded, batchSize: 1);
        var promptIds = model.Encode(new VisionPrompt(prompt, settings.Images));
        using var features = loaded.Model.ImageFeatures(loaded.PixelValues(settings.Images));
        var ids = TokenGenerator.Generate(new ImageConditionedModel(loaded.Model, features), [promptIds],
            new SamplingOptions(settings.MaxNewTokens, settings.Temperature, settings.TopP, settings.Seed, settings.NumBeams, settings.RepetitionPenalty), loaded.Tokenizer!.EosId)[0];
        string text = loaded.Tokenizer.Decode(ids);
        if (settings.Json)
            Console.Out.WriteLine(JsonSerializer.Serialize(new { text, prompt, prompt_ids = promptIds, ids },
                new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        else
            Console.Out.WriteLine(text);
        return 0;
    }

    /// <summary>"loading 42%" on stderr (stdout carries only the text), on the caller's thread.</summary>
    sealed class LoadingProgress : IProgress<double>
    {
        int shown = -1;

        public void Report(double fraction)
        {
            int percent = (int)(fraction * 100);
            if (percent == shown) return;
            shown = percent;
            Console.Error.Write($"\rloading weights {percent}%");
        }
    }
}
