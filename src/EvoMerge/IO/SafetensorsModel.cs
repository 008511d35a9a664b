using System.Text.Json;

namespace EvoMerge.IO;

/// <summary>
/// The weights of a model: one safetensors file, or the shards that <c>model.safetensors.index.json</c> lists.
/// All files are memory-mapped (<see cref="SafetensorsFile"/>); reads are zero-copy and thread-safe.
/// </summary>
public sealed class SafetensorsModel : IDisposable
{
    public const string IndexFileName = "model.safetensors.index.json";
    public const string SingleFileName = "model.safetensors";

    readonly Dictionary<string, (TensorInfo Info, SafetensorsFile File)> _byName;

    /// <summary>For a prefixed model (<see cref="OpenPrefixed"/>): each tensor as its file knows it, under its new name.</summary>
    Dictionary<string, TensorInfo>? _inFile;

    /// <summary>The files, in shard order.</summary>
    public IReadOnlyList<SafetensorsFile> Files { get; }

    /// <summary>Every tensor, shard by shard, each shard in data order.</summary>
    public IReadOnlyList<TensorInfo> Tensors { get; }

    /// <summary>The index file when the model is sharded, else null.</summary>
    public string? IndexPath { get; }

    SafetensorsModel(List<SafetensorsFile> files, Dictionary<string, (TensorInfo, SafetensorsFile)> byName, string? indexPath,
        IReadOnlyList<TensorInfo>? tensors = null)
    {
        Files = files;
        _byName = byName;
        IndexPath = indexPath;
        // Shard by shard in data order; a tensor a shard holds but the index does not list is not part of the model
        // (transformers ignores it too).
        Tensors = tensors ?? files.SelectMany(f => f.Tensors).Where(t => byName.TryGetValue(t.Name, out var e) && ReferenceEquals(e.Item1, t)).ToArray();
    }

    /// <summary>
    /// Several weight sets as one model, each tensor's name behind its part's prefix: a diffusers pipeline's components
    /// (<c>unet/</c>'s <c>conv_in.weight</c> is <c>unet.conv_in.weight</c>). Each path opens as <see cref="Open"/> does.
    /// </summary>
    public static SafetensorsModel OpenPrefixed(IReadOnlyList<(string Prefix, string Path)> parts)
    {
        var opened = new List<SafetensorsModel>();
        try
        {
            var byName = new Dictionary<string, (TensorInfo, SafetensorsFile)>();
            var inFile = new Dictionary<string, TensorInfo>();
            var order = new List<TensorInfo>();
            foreach (var (prefix, path) in parts)
            {
                var model = Open(path);
                opened.Add(model);
                foreach (var t in model.Tensors)
                {
                    var renamed = t with { Name = prefix + t.Name };
                    if (!byName.TryAdd(renamed.Name, (renamed, model.FileOf(t.Name))))
                        throw new EvoMergeException($"{path}: tensor '{renamed.Name}' is also in {byName[renamed.Name].Item2.Path}");
                    inFile[renamed.Name] = t;
                    order.Add(renamed);
                }
            }
            return new SafetensorsModel(opened.SelectMany(m => m.Files).ToList(), byName, null, order) { _inFile = inFile };
        }
        catch
        {
            foreach (var m in opened) m.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens a <c>.safetensors</c> file, an index file, or a folder (its index if present, else its
    /// <c>*.safetensors</c> files). Every problem is an <see cref="EvoMergeException"/> naming the file.
    /// </summary>
    public static SafetensorsModel Open(string path)
    {
        if (Directory.Exists(path))
        {
            string index = Path.Combine(path, IndexFileName);
            if (InputFile.Exists(index)) return OpenIndex(index);
            var shards = Directory.GetFiles(path, "*.safetensors").Order(StringComparer.Ordinal).ToArray();
            if (shards.Length == 0)
            {
                bool pickles = Directory.EnumerateFiles(path, "*.bin").Concat(Directory.EnumerateFiles(path, "*.pt")).Any();
                throw new EvoMergeException($"{path}: no {IndexFileName} and no .safetensors files in this folder" +
                    (pickles ? " (EvoMerge reads safetensors only, never pickled .bin/.pt weights: convert them first)" : ""));
            }
            return OpenFiles(shards);
        }
        if (!File.Exists(path)) throw new EvoMergeException($"{path}: no such file or folder");
        return path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? OpenIndex(path) : OpenFiles([path]);
    }

    static SafetensorsModel OpenFiles(string[] paths)
    {
        var files = new List<SafetensorsFile>();
        try
        {
            var byName = new Dictionary<string, (TensorInfo, SafetensorsFile)>();
            foreach (string p in paths)
            {
                var file = SafetensorsFile.Open(p);
                files.Add(file);
                foreach (var t in file.Tensors)
                    if (!byName.TryAdd(t.Name, (t, file)))
                        throw new EvoMergeException($"{p}: tensor '{t.Name}' is also in {byName[t.Name].Item2.Path}");
            }
            return new SafetensorsModel(files, byName, null);
        }
        catch
        {
            foreach (var f in files) f.Dispose();
            throw;
        }
    }

    static SafetensorsModel OpenIndex(string indexPath)
    {
        var weightMap = ReadWeightMap(indexPath);
        string folder = Path.GetDirectoryName(Path.GetFullPath(indexPath))!;
        var files = new List<SafetensorsFile>();
        try
        {
            var byShard = new Dictionary<string, SafetensorsFile>();
            var byName = new Dictionary<string, (TensorInfo, SafetensorsFile)>();
            foreach (var (name, shard) in weightMap)
            {
                if (!byShard.TryGetValue(shard, out var file))
                {
                    string shardPath = Path.Combine(folder, shard);
                    if (!InputFile.Exists(shardPath))
                        throw new EvoMergeException($"{indexPath}: weight_map sends tensor '{name}' to shard '{shard}', which does not exist");
                    byShard[shard] = file = SafetensorsFile.Open(shardPath);
                    files.Add(file);
                }
                if (!file.TryGetInfo(name, out var info))
                    throw new EvoMergeException($"{indexPath}: weight_map sends tensor '{name}' to shard '{shard}', which does not contain it");
                byName[name] = (info, file);
            }
            files.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
            return new SafetensorsModel(files, byName, Path.GetFullPath(indexPath));
        }
        catch
        {
            foreach (var f in files) f.Dispose();
            throw;
        }
    }

    /// <summary>Reads <c>weight_map</c> (tensor → shard file name) of an index file, in file order.</summary>
    static List<(string Name, string Shard)> ReadWeightMap(string indexPath)
    {
        var bytes = InputFile.ReadAllBytes(indexPath, SafetensorsHeader.MaxHeaderBytes, "index file");
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new EvoMergeException($"{indexPath}: expected a JSON object with a 'weight_map' object (tensor name → shard file)");
            var entries = new List<(string, string)>();
            var seen = new HashSet<string>();
            foreach (var entry in map.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String)
                    throw new EvoMergeException($"{indexPath}: weight_map['{entry.Name}'] must be a shard file name, found {entry.Value.ValueKind}");
                string shard = entry.Value.GetString()!;
                // A shard is a file beside the index: a path could read anything on the machine.
                if (shard.Length == 0 || shard != Path.GetFileName(shard) || shard is "." or "..")
                    throw new EvoMergeException($"{indexPath}: weight_map['{entry.Name}'] = '{shard}' must be a file name in the index's folder");
                if (!seen.Add(entry.Name))
                    throw new EvoMergeException($"{indexPath}: tensor '{entry.Name}' appears twice in weight_map");
                if (entries.Count == SanityBounds.MaxTensors)
                    throw new EvoMergeException($"{indexPath}: more than {SanityBounds.MaxTensors} tensors in weight_map");
                entries.Add((entry.Name, shard));
            }
            return entries;
        }
        catch (JsonException e)
        {
            throw new EvoMergeException($"{indexPath}: not valid JSON ({e.Message})");
        }
        catch (InvalidOperationException e)
        {
            throw new EvoMergeException($"{indexPath}: holds a string that is not valid Unicode ({e.Message})");
        }
    }

    public bool Contains(string name) => _byName.ContainsKey(name);

    public TensorInfo GetInfo(string name) => Lookup(name).Info;

    public bool TryGetInfo(string name, out TensorInfo info)
    {
        bool found = _byName.TryGetValue(name, out var entry);
        info = entry.Info;
        return found;
    }

    /// <summary>The file that holds a tensor.</summary>
    public SafetensorsFile FileOf(string name) => Lookup(name).File;

    /// <summary>All bytes of a tensor, zero-copy (see <see cref="SafetensorsFile.GetBytes(TensorInfo)"/>).</summary>
    public ReadOnlySpan<byte> GetBytes(string name)
    {
        var (info, file) = Lookup(name);
        return file.GetBytes(InFile(info));
    }

    /// <summary>A byte range of a tensor, zero-copy (see <see cref="SafetensorsFile.GetBytes(TensorInfo, long, int)"/>).</summary>
    public ReadOnlySpan<byte> GetBytes(TensorInfo tensor, long start, int length) => Lookup(tensor.Name).File.GetBytes(InFile(tensor), start, length);

    /// <summary>Copies a byte range of a tensor out of its file (see <see cref="SafetensorsFile.Read"/>).</summary>
    public void Read(TensorInfo tensor, long start, Span<byte> destination) => Lookup(tensor.Name).File.Read(InFile(tensor), start, destination);

    TensorInfo InFile(TensorInfo tensor) => _inFile != null && _inFile.TryGetValue(tensor.Name, out var own) ? own : tensor;

    /// <summary>
    /// Decodes a whole float tensor into <paramref name="destination"/> (exactly its element count), straight from the
    /// mapping; tensors of 2 GiB or more are converted range by range, so any size works.
    /// </summary>
    public void ReadFloat32(string name, Span<float> destination) => ReadFloat32(name, destination, MaxRangeBytes);

    const int MaxRangeBytes = 1 << 30;

    internal void ReadFloat32(string name, Span<float> destination, int rangeBytes)
    {
        var (info, file) = Lookup(name);
        if (destination.Length != info.ElementCount)
            throw new ArgumentException($"tensor '{name}' has {info.ElementCount} elements, the destination {destination.Length}", nameof(destination));
        int size = info.DType.ElementSize();
        int elementsPerRange = Math.Max(1, rangeBytes / size);
        for (long start = 0; start < info.ElementCount; start += elementsPerRange)
        {
            int count = (int)Math.Min(elementsPerRange, info.ElementCount - start);
            FloatConversion.ToFloat32(file.GetBytes(InFile(info), start * size, count * size), info.DType, destination.Slice((int)start, count));
        }
    }

    /// <summary>Total bytes of tensor data.</summary>
    public long TotalBytes => Tensors.Sum(t => t.ByteLength);

    (TensorInfo Info, SafetensorsFile File) Lookup(string name) => _byName.TryGetValue(name, out var entry)
        ? entry
        : throw new EvoMergeException($"{IndexPath ?? Files[0].Path}: no tensor named '{name}'");

    public void Dispose()
    {
        foreach (var f in Files) f.Dispose();
    }
}
