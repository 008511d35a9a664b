using System.Buffers.Binary;

namespace EvoMerge.Cluster.Tests;

/// <summary>The fingerprint a worker's files must match, on the repository's tiny demo models.</summary>
public class SourceFingerprintTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("evo-fingerprint-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static string Demo(string model)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (Directory.Exists(Path.Combine(dir.FullName, "demo", "models", model))) return Path.Combine(dir.FullName, "demo", "models", model);
        throw new DirectoryNotFoundException($"demo/models/{model} above {AppContext.BaseDirectory}");
    }

    string Copy(string model, string name)
    {
        string to = Path.Combine(_dir, name);
        Directory.CreateDirectory(to);
        foreach (string f in Directory.GetFiles(Demo(model))) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        return to;
    }

    [Fact]
    public void Equal_files_anywhere_match_and_fine_tunes_with_identical_headers_do_not()
    {
        Assert.Equal(SourceFingerprint.Of(Demo("ja")), SourceFingerprint.Of(Copy("ja", "elsewhere")));
        // ja and math are fine-tunes of one base: same config.json, same tensor headers, different weights.
        Assert.Equal(File.ReadAllText(Path.Combine(Demo("ja"), "config.json")), File.ReadAllText(Path.Combine(Demo("math"), "config.json")));
        Assert.NotEqual(SourceFingerprint.Of(Demo("ja")), SourceFingerprint.Of(Demo("math")));
        Assert.Equal(SourceFingerprint.Absent, SourceFingerprint.Of(Path.Combine(_dir, "missing")));
    }

    [Fact]
    public void A_changed_config_or_first_weight_changes_the_fingerprint()
    {
        string original = SourceFingerprint.Of(Demo("ja"));
        string config = Copy("ja", "config");
        File.AppendAllText(Path.Combine(config, "config.json"), " ");
        Assert.NotEqual(original, SourceFingerprint.Of(config));

        string weights = Copy("ja", "weights");
        string file = Path.Combine(weights, "model.safetensors");
        byte[] bytes = File.ReadAllBytes(file);
        long dataStart = 8 + (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);   // safetensors: u64 header length, header, data
        bytes[dataStart] ^= 0x01;
        File.WriteAllBytes(file, bytes);
        Assert.NotEqual(original, SourceFingerprint.Of(weights));
    }

    [Fact]
    public void Data_files_are_fingerprinted_by_content()
    {
        string a = Path.Combine(_dir, "a.jsonl"), b = Path.Combine(_dir, "b.jsonl");
        File.WriteAllText(a, "{\"q\": 1}\n");
        File.WriteAllText(b, "{\"q\": 1}\n");
        Assert.Equal(SourceFingerprint.Of(a), SourceFingerprint.Of(b));
        File.WriteAllText(b, "{\"q\": 2}\n");
        Assert.NotEqual(SourceFingerprint.Of(a), SourceFingerprint.Of(b));
    }
}
