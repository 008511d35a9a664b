using EvoMerge.Tokenization;
using EvoMerge.TestSupport;
using EvoMerge.Torch.Generation;
using EvoMerge.Torch.Import;
using EvoMerge.Torch.Model;
using EvoMerge.Torch.Runtime;
using EvoMerge.Evaluation;
using EvoMerge.Torch.Weights;

namespace EvoMerge.Torch.Tests.Runtime;

/// <summary>
/// The real pretrained stories260K must reproduce karpathy's published greedy sample (llama2.c
/// doc/stories260K.md, quoted in shared/data/models/stories260k/SOURCE.md): the strongest check that import
/// (including the RoPE row permutation), GQA, the forward and the tokenizer are all right.
/// </summary>
public class Stories260kGoldenTests
{
    internal const string Published = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. " +
        "One day, she saw a big, red ball. She wanted to play with it, but it was too high";

    [SharedDataFact("models/stories260k/stories260K.bin")]
    public void CheckpointDecodesGreedilyToThePublishedSample()
    {
        var checkpoint = Llama2cCheckpoint.Read(SharedData.PathOf("models/stories260k/stories260K.bin"));
        var tokenizer = Llama2cTokenizer.Load(SharedData.PathOf("models/stories260k/tok512.bin"), checkpoint.Config.VocabSize);
        using var model = new LlamaForCausalLM(checkpoint.Config);
        var weights = new ResidentWeights(model, checkpoint.Config.TieWordEmbeddings);
        foreach (var (name, shape, values) in checkpoint.Tensors) weights.Accept(name, shape, values);
        Assert.Empty(weights.Unwritten());

        var ids = TokenGenerator.Generate(model, [[1]], new SamplingOptions(MaxNewTokens: 80), eosId: null)[0];
        string text = tokenizer.Decode(ids);
        Assert.StartsWith(Published, text);
        // Token for token: the published text, encoded, is exactly what the model produced.
        var publishedIds = tokenizer.Encode(Published, addBos: false);
        Assert.Equal(publishedIds, ids.Take(publishedIds.Count));
    }

    [SharedDataFact("models/stories260k/stories260K.bin")]
    public void ImportedFolderLoadsAndGeneratesThePublishedSampleFromAnEmptyPrompt()
    {
        string dir = Path.Combine(Path.GetTempPath(), "evomerge-import-" + Guid.NewGuid().ToString("N"));
        try
        {
            Llama2cImporter.Import(SharedData.PathOf("models/stories260k/stories260K.bin"),
                SharedData.PathOf("models/stories260k/tok512.bin"), dir);
            Assert.True(File.Exists(Path.Combine(dir, "model.safetensors")));
            Assert.False(Directory.Exists(dir + ".partial"));
            using var loaded = LoadedModel.Load(dir);
            var lm = new TorchLanguageModel(loaded.Model, loaded.Tokenizer);
            string text = lm.Generate([""], new GenerationOptions(MaxNewTokens: 80))[0];
            Assert.StartsWith(Published, text);
            // Stop strings end generation and are not returned.
            Assert.Equal("Once upon a time, there was a little girl named Lily",
                lm.Generate([""], new GenerationOptions(MaxNewTokens: 80, StopStrings: [". She"]))[0]);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }
}
