using EvoMerge.Evaluation;
using EvoMerge.Torch.Generation;
using EvoMerge.Torch.Model;
using EvoMerge.Torch.Runtime;
using EvoMerge.Torch.Vision.Model;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Vision.Runtime;

/// <summary>
/// <see cref="IVisionLanguageModel"/> over a loaded LLaVA. A prompt's text around each <c>&lt;image&gt;</c> is
/// encoded piece by piece (BOS before the first), and each mark becomes <see cref="LlavaConfig.TokensPerImage"/>
/// image-token positions that the image's features fill. Text-only requests go to the language model as usual.
/// With <paramref name="decoder"/> (a DFS layer path whose model A is this LLaVA's language model) the embeddings
/// and image features run through the path instead of the LLaVA's own layers.
/// </summary>
public sealed class TorchVisionLanguageModel(LoadedVlm vlm, int batchSize = 8, IDecoderModel? decoder = null) : IVisionLanguageModel
{
    readonly TorchLanguageModel text = new(new ImageConditionedModel(vlm.Model, null, decoder), TokenizerOf(vlm), batchSize);

    public IReadOnlyList<string> Generate(IReadOnlyList<string> prompts, GenerationOptions options) => text.Generate(prompts, options);

    public IReadOnlyList<ContinuationScore> ScoreContinuations(IReadOnlyList<ContinuationRequest> requests) => text.ScoreContinuations(requests);

    public IReadOnlyList<string> Generate(IReadOnlyList<VisionPrompt> prompts, GenerationOptions options)
    {
        var tokenizer = TokenizerOf(vlm);
        var stops = options.StopStrings?.Where(s => s.Length > 0).ToArray() ?? [];
        var sampling = new SamplingOptions(options.MaxNewTokens, options.Temperature, options.TopP, options.Seed, options.NumBeams, options.RepetitionPenalty);
        var results = new string[prompts.Count];
        foreach (var batch in Enumerable.Range(0, prompts.Count).Chunk(batchSize))
        {
            using var scope = NewDisposeScope();
            var ids = batch.Select(i => Encode(prompts[i])).ToArray();
            var images = batch.SelectMany(i => prompts[i].ImagePaths).ToArray();
            using var features = images.Length == 0 ? null : vlm.Model.ImageFeatures(vlm.PixelValues(images));
            bool Stopped(int b, IReadOnlyList<int> generated) =>
                stops.Length > 0 && TorchLanguageModel.CutAtStop(tokenizer.Decode(generated), stops).Stopped;
            var generated = TokenGenerator.Generate(new ImageConditionedModel(vlm.Model, features, decoder), ids, sampling, tokenizer.EosId, Stopped);
            for (int b = 0; b < batch.Length; b++)
                results[batch[b]] = TorchLanguageModel.CutAtStop(tokenizer.Decode(generated[b]), stops).Text;
        }
        return results;
    }

    /// <summary>Token ids of a prompt with each image mark expanded to the image's positions.</summary>
    public IReadOnlyList<int> Encode(VisionPrompt prompt)
    {
        var tokenizer = TokenizerOf(vlm);
        var pieces = prompt.Text.Split(IVisionLanguageModel.ImagePlaceholder);
        if (pieces.Length - 1 != prompt.ImagePaths.Count)
            throw new EvoMergeException($"the prompt has {pieces.Length - 1} '{IVisionLanguageModel.ImagePlaceholder}' mark(s) for {prompt.ImagePaths.Count} image(s)");
        var ids = new List<int>();
        var config = vlm.Model.Config;
        for (int p = 0; p < pieces.Length; p++)
        {
            if (p > 0) ids.AddRange(Enumerable.Repeat(config.ImageTokenIndex, config.TokensPerImage));
            if (p == 0 || pieces[p].Length > 0) ids.AddRange(tokenizer.Encode(pieces[p], addBos: p == 0));
        }
        return ids;
    }

    static EvoMerge.Tokenization.ITokenizer TokenizerOf(LoadedVlm vlm) =>
        vlm.Tokenizer ?? throw new EvoMergeException($"{vlm.Folder}: no tokenizer (expected tokenizer.model or tokenizer.json) to run text prompts");
}
