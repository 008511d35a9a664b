using EvoMerge.Evaluation;
using EvoMerge.IO;
using EvoMerge.Torch.Vision.Runtime;
using EvoMerge.Torch.Runtime;

namespace EvoMerge.Cli.Eval;

/// <param name="Model">A model folder, .safetensors file or cached Hugging Face id, as given on the command line.</param>
/// <param name="BatchSize">Sequences the runtime runs through the model together.</param>
public sealed record ModelRequest(string Model, string Device, string DType, int BatchSize);

/// <summary>Opens a model for evaluation with the in-process runtime (EvoMerge.Torch).</summary>
static class ModelOpener
{
    /// <param name="progress">Told the fraction of the weights loaded.</param>
    public static ILanguageModel Open(ModelRequest request, IProgress<double>? progress)
    {
        var device = DeviceOptions.ParseDevice(request.Device);
        var dtype = DeviceOptions.ParseDType(request.DType);
        DeviceOptions.UseThreads();
        if (IsLlava(request.Model))
        {
            var vlm = LoadedVlm.Load(request.Model, device, dtype);
            return new OwningVisionModel(vlm, new TorchVisionLanguageModel(vlm, request.BatchSize));
        }
        var loaded = LoadedModel.Load(request.Model, device, dtype, progress);
        return new OwningLanguageModel(loaded, new TorchLanguageModel(loaded.Model, loaded.Tokenizer, request.BatchSize));
    }

    static bool IsLlava(string reference)
    {
        string path = ModelReference.Resolve(reference);
        string config = Path.Combine(Directory.Exists(path) ? path : Path.GetDirectoryName(path)!, ModelFolder.ConfigFileName);
        return File.Exists(config) && ModelConfig.Load(config).Architecture == EvoMerge.Anatomy.ModelAnatomy.LlavaArchitecture;
    }

    /// <summary>A LLaVA's vision-language model and its loaded weights, freed together.</summary>
    sealed class OwningVisionModel(LoadedVlm loaded, TorchVisionLanguageModel model) : IVisionLanguageModel, IDisposable
    {
        public IReadOnlyList<string> Generate(IReadOnlyList<string> prompts, GenerationOptions options) => model.Generate(prompts, options);

        public IReadOnlyList<string> Generate(IReadOnlyList<VisionPrompt> prompts, GenerationOptions options) => model.Generate(prompts, options);

        public IReadOnlyList<ContinuationScore> ScoreContinuations(IReadOnlyList<ContinuationRequest> requests) =>
            model.ScoreContinuations(requests);

        public void Dispose() => loaded.Dispose();
    }

    /// <summary>The runtime's language model, plus the loaded weights it runs on, freed together when eval ends.</summary>
    sealed class OwningLanguageModel(LoadedModel loaded, TorchLanguageModel model) : ILanguageModel, IDisposable
    {
        public IReadOnlyList<string> Generate(IReadOnlyList<string> prompts, GenerationOptions options) => model.Generate(prompts, options);

        public IReadOnlyList<ContinuationScore> ScoreContinuations(IReadOnlyList<ContinuationRequest> requests) =>
            model.ScoreContinuations(requests);

        public void Dispose() => loaded.Dispose();
    }
}
