using EvoMerge.IO;
using EvoMerge.Tokenization;
using EvoMerge.Torch.Model;
using EvoMerge.Torch.Weights;
using static TorchSharp.torch;

namespace EvoMerge.Torch.Runtime;

/// <summary>A model folder loaded into memory: the module, its tokenizer, and its weights as a merge target.</summary>
public sealed class LoadedModel : IDisposable
{
    LoadedModel(string folder, LlamaForCausalLM model, ITokenizer tokenizer, SpecialTokens special)
    {
        Folder = folder;
        Model = model;
        Tokenizer = tokenizer;
        Special = special;
        Weights = new ResidentWeights(model, model.Config.TieWordEmbeddings);
    }

    public string Folder { get; }
    public LlamaForCausalLM Model { get; }
    public ITokenizer Tokenizer { get; }
    /// <summary>BOS/EOS strings and the chat template of tokenizer_config.json.</summary>
    public SpecialTokens Special { get; }
    /// <summary>Replace all weights in place (<see cref="EvoMerge.Merge.IMergeTarget"/>) without rebuilding the model.</summary>
    public ResidentWeights Weights { get; }

    /// <summary>
    /// Opens a model folder, a .safetensors file or a cached Hugging Face id, builds the model on
    /// <paramref name="device"/> in <paramref name="dtype"/> and copies the memory-mapped weights into it
    /// (a plain byte copy when the file's dtype is the model's). <paramref name="progress"/> gets the fraction done.
    /// </summary>
    public static LoadedModel Load(string reference, Device? device = null, ScalarType dtype = ScalarType.Float32,
        IProgress<double>? progress = null)
    {
        using var folder = ModelFolder.Open(reference);
        string dir = Directory.Exists(folder.Path) ? folder.Path : Path.GetDirectoryName(folder.Path)!;
        string configPath = Path.Combine(dir, ModelFolder.ConfigFileName);
        if (folder.Config is null) throw new EvoMergeException($"{configPath}: not found; the runtime needs the model's config.json");
        var config = LlamaConfig.From(folder.Config, configPath);
        var tokenizer = TokenizerFactory.FromFolder(dir, config.VocabSize);
        var model = new LlamaForCausalLM(config, device, dtype);
        model.eval();
        var loaded = new LoadedModel(dir, model, tokenizer, SpecialTokens.Read(Path.Combine(dir, "tokenizer_config.json")));
        try
        {
            loaded.Weights.CopyFrom(folder.Weights, progress);
            return loaded;
        }
        catch
        {
            loaded.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Model.Dispose();
        (Tokenizer as IDisposable)?.Dispose();
    }
}
