using EvoMerge.Demo;
using EvoMerge.Torch.Model;

namespace EvoMerge.Demo;

/// <summary>The demo models' shape: the checked prototype's (4 layers, d=128, 4 heads, SwiGLU 384, untied head).</summary>
public static class DemoModelShape
{
    public const int Layers = 4;

    public static LlamaConfig Config(CharacterTokenizer tokenizer) => new LlamaConfig
    {
        VocabSize = tokenizer.VocabSize,
        HiddenSize = 128,
        IntermediateSize = 384,
        NumLayers = Layers,
        NumHeads = 4,
        NumKvHeads = 4,
        TieWordEmbeddings = false,
        RmsNormEps = 1e-5f,   // the shipped models were trained with it (written to their config.json)
        MaxPositionEmbeddings = 256,
        BosTokenId = tokenizer.BosId,
        EosTokenId = tokenizer.EosId,
    }.Validated("demo model");

    /// <summary>The folder names under <c>demo/models</c>.</summary>
    public const string BaseFolder = "base", JapaneseFolder = "ja", MathFolder = "math";

    /// <summary>The joint fine-tune baseline: the base trained on A's and B's data together.</summary>
    public const string JointFolder = "joint";
}
