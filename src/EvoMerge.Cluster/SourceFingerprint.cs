using System.Security.Cryptography;
using System.Text;
using EvoMerge.IO;

namespace EvoMerge.Cluster;

/// <summary>
/// What a worker and the driver compare before a worker scores anything, so that two machines holding different
/// files under one name are caught: for a model, its <c>config.json</c> plus every tensor's header (name, dtype,
/// shape, size) and a sample of its bytes (first, middle and last 64), because models fine-tuned from one base
/// share every header; for a data file, its whole content. Cheap: headers and a few pages per tensor.
/// </summary>
public static class SourceFingerprint
{
    const int SampleBytes = 64;

    /// <summary>The fingerprint of a model folder or data file, or <c>absent</c> when there is nothing at the path.</summary>
    public static string Of(string path)
    {
        if (Directory.Exists(path) || path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)) return OfModel(path);
        if (File.Exists(path)) return "data:" + Hex(SHA256.HashData(File.ReadAllBytes(path)));
        return Absent;
    }

    public const string Absent = "absent";

    static string OfModel(string path)
    {
        if (!Directory.Exists(path) && !File.Exists(path)) return Absent;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        string folder = Directory.Exists(path) ? path : Path.GetDirectoryName(path)!;
        string config = Path.Combine(folder, ModelFolder.ConfigFileName);
        if (File.Exists(config)) hash.AppendData(File.ReadAllBytes(config));
        bool any = false;
        try
        {
            using var weights = SafetensorsModel.Open(path);
            foreach (var tensor in weights.Tensors.OrderBy(t => t.Name, StringComparer.Ordinal))
            {
                any = true;
                hash.AppendData(Encoding.UTF8.GetBytes($"{tensor.Name}|{tensor.DType}|{tensor.ShapeText}|{tensor.ByteLength}\n"));
                foreach (long start in (long[])[0, tensor.ByteLength / 2, tensor.ByteLength - SampleBytes])
                {
                    long from = Math.Clamp(start, 0, Math.Max(0, tensor.ByteLength - 1));
                    int length = (int)Math.Min(SampleBytes, tensor.ByteLength - from);
                    if (length > 0) hash.AppendData(weights.GetBytes(tensor, from, length));
                }
            }
        }
        catch (EvoMergeException) when (!any)
        {
            // A folder without weights (a config alone): fingerprinted by its config.
        }
        return "model:" + Hex(hash.GetHashAndReset());
    }

    static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes)[..24];
}
