using EvoMerge.Anatomy;
using EvoMerge.IO;
using EvoMerge.Tokenization;
using EvoMerge.Torch.Vision.Images;
using EvoMerge.Torch.Vision.Model;
using EvoMerge.Torch.Weights;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Vision.Runtime;

/// <summary>
/// A Hugging Face <c>llava</c> folder loaded into memory: the model, its image processor and its tokenizer.
/// Tensors are accepted under transformers 4.x and 5.x names (the anatomy maps the language model's names).
/// </summary>
public sealed class LoadedVlm : IDisposable
{
    LoadedVlm(string folder, LlavaForConditionalGeneration model, ClipImageProcessor processor, ITokenizer? tokenizer, SpecialTokens special)
    {
        Folder = folder;
        Model = model;
        Processor = processor;
        Tokenizer = tokenizer;
        Special = special;
    }

    public string Folder { get; }
    public LlavaForConditionalGeneration Model { get; }
    public ClipImageProcessor Processor { get; }
    /// <summary>Null when the folder has no tokenizer files (a weights-only folder can still be run on token ids).</summary>
    public ITokenizer? Tokenizer { get; }
    public SpecialTokens Special { get; }

    public static LoadedVlm Load(string reference, Device? device = null, ScalarType dtype = ScalarType.Float32)
    {
        using var folder = ModelFolder.Open(reference);
        string dir = Directory.Exists(folder.Path) ? folder.Path : Path.GetDirectoryName(folder.Path)!;
        string configPath = Path.Combine(dir, ModelFolder.ConfigFileName);
        var config = LlavaConfig.FromFile(configPath);
        var model = new LlavaForConditionalGeneration(config, device, dtype);
        model.eval();
        try
        {
            CopyWeights(model, folder, config.Text.TieWordEmbeddings);
            var processor = ClipImageProcessor.FromFolder(dir, config.Vision.ImageSize);
            if (processor.OutputSize(new RgbImage(1, 1, [0, 0, 0])) != (config.Vision.ImageSize, config.Vision.ImageSize))
                throw new EvoMergeException($"{Path.Combine(dir, "preprocessor_config.json")}: crop_size must be the vision tower's image_size ({config.Vision.ImageSize})");
            bool hasTokenizer = new[] { "tokenizer.model", "tokenizer.json" }.Any(f => File.Exists(Path.Combine(dir, f)));
            var tokenizer = hasTokenizer ? TokenizerFactory.FromFolder(dir, config.Text.VocabSize) : null;
            return new LoadedVlm(dir, model, processor, tokenizer, SpecialTokens.Read(Path.Combine(dir, "tokenizer_config.json")));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Every tensor of the folder into the model under the runtime's (4.x) names; fails naming missing ones.</summary>
    static void CopyWeights(LlavaForConditionalGeneration model, ModelFolder folder, bool tiedHead)
    {
        var anatomy = ModelAnatomy.For(ModelAnatomy.LlavaArchitecture);
        var weights = new ResidentWeights(model, tiedHead);
        foreach (var t in folder.Weights.Tensors)
        {
            if (t.Name.EndsWith("embeddings.position_ids", StringComparison.Ordinal)) continue;   // a buffer older CLIP checkpoints store
            string name = RuntimeName(anatomy, t.Name);
            if (tiedHead && name == "language_model.lm_head.weight") continue;
            weights.AcceptStored(name, t.Shape, t.DType, folder.Weights.GetBytes(t.Name));
        }
        var missing = weights.Unwritten();
        if (missing.Count > 0)
            throw new EvoMergeException($"{folder.Path}: missing tensor(s) {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? ", ..." : "")}");
    }

    /// <summary>A tensor's name in <see cref="LlavaForConditionalGeneration"/>: transformers 4.x's.</summary>
    public static string RuntimeName(ModelAnatomy anatomy, string name)
    {
        if (anatomy.DecoderName(name) is string decoder) return "language_model." + decoder;
        return name.StartsWith("model.", StringComparison.Ordinal) ? name["model.".Length..] : name;
    }

    /// <summary>Pixel values [images, 3, size, size] of image files, decoded and preprocessed.</summary>
    public Tensor PixelValues(IReadOnlyList<string> imagePaths, long maxPixels = ImageDecoder.DefaultMaxPixels)
    {
        int size = Model.Config.Vision.ImageSize;
        var all = new float[imagePaths.Count * 3 * size * size];
        for (int i = 0; i < imagePaths.Count; i++)
            Processor.Process(ImageDecoder.Decode(imagePaths[i], maxPixels)).CopyTo(all, i * 3 * size * size);
        return tensor(all, [imagePaths.Count, 3, size, size]);
    }

    public void Dispose()
    {
        Model.Dispose();
        (Tokenizer as IDisposable)?.Dispose();
    }
}
