using EvoMerge.Evaluation;

namespace EvoMerge.Cli.Eval;

/// <param name="Model">A model folder or cached Hugging Face id, as given on the command line.</param>
public sealed record ModelRequest(string Model, string Device, string DType);

/// <summary>Opens a model for evaluation through the runtime (EvoMerge.Torch).</summary>
static class ModelOpener
{
    public static ILanguageModel Open(ModelRequest request) =>
        throw new EvoMergeException($"cannot load '{request.Model}': the model runtime's loader is not wired into eval yet");
}
