namespace EvoMerge.Evaluation;

/// <summary>
/// The runner seam for models that read images (LLaVA). A prompt marks where each of its images goes with
/// <see cref="ImagePlaceholder"/>; the runtime expands each mark into the image's feature positions.
/// </summary>
public interface IVisionLanguageModel : ILanguageModel
{
    /// <summary>Written in a prompt where an image goes, as LLaVA's processors write it.</summary>
    public const string ImagePlaceholder = "<image>";

    /// <summary>Completes each prompt given its images (batched by the implementation); returns the new text only.</summary>
    IReadOnlyList<string> Generate(IReadOnlyList<VisionPrompt> prompts, GenerationOptions options);
}

/// <param name="Text">The prompt, with one <see cref="IVisionLanguageModel.ImagePlaceholder"/> per image.</param>
/// <param name="ImagePaths">The image files, in placeholder order.</param>
public sealed record VisionPrompt(string Text, IReadOnlyList<string> ImagePaths);
