using EvoMerge.Demo;
using EvoMerge.Torch.Model;

namespace EvoMerge.Torch.Demo;

/// <summary>The demo models' shape: the checked prototype's (4 layers, d=128, 4 heads, SwiGLU 384, untied head).</summary>
public static class DemoModelShape
{
    public static LlamaConfig Config(CharacterTokenizer tokenizer) => new LlamaConfig
    {
        VocabSize = tokenizer.VocabSize,
        HiddenSize = 128,
        IntermediateSize = 384,
        NumLayers = 4,
        NumHeads = 4,
        NumKvHeads = 4,
        TieWordEmbeddings = false,
        MaxPositionEmbeddings = 256,
        BosTokenId = tokenizer.BosId,
        EosTokenId = tokenizer.EosId,
    }.Validated("demo model");

    /// <summary>The folder names under <c>demo/models</c>.</summary>
    public const string BaseFolder = "base", JapaneseFolder = "ja", MathFolder = "math";
}
