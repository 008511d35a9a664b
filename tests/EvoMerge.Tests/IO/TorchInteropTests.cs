using System.Runtime.InteropServices;
using System.Text.Json;
using EvoMerge.IO;
using EvoMerge.TestSupport;

namespace EvoMerge.Tests.IO;

/// <summary>
/// Files exchanged with an independent writer and reader: Fixtures/io/torch_safetensors.py, which writes and
/// parses the format with PyTorch and numpy alone (no code shared with EvoMerge).
/// </summary>
public class TorchInteropTests
{
    static readonly string FixtureFolder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "io");
    static readonly string Script = Path.Combine(SharedData.RepoRoot, "tests", "EvoMerge.Tests", "Fixtures", "io", "torch_safetensors.py");

    /// <summary>The committed file PyTorch wrote: every tensor decodes to the float32 values torch gave for it.</summary>
    [Fact]
    public void Reads_the_committed_file_PyTorch_wrote() =>
        AssertMatchesTorch(Path.Combine(FixtureFolder, "torch_written.safetensors"));

    /// <summary>The script run now (as CI does) reproduces the committed file byte for byte, and it reads the same.</summary>
    [PythonReferenceFact("torch")]
    public void Reads_a_file_PyTorch_writes_now()
    {
        using var dir = new TempFolder();
        string path = dir.File("torch_written.safetensors");
        var run = PythonReference.Run($"\"{Script}\" write \"{path}\"", TimeSpan.FromMinutes(2));
        Assert.True(run.ExitCode == 0, run.Stderr);
        AssertMatchesTorch(path);
        Assert.Equal(File.ReadAllBytes(Path.Combine(FixtureFolder, "torch_written.safetensors")), File.ReadAllBytes(path));
    }

    /// <summary>PyTorch reads what EvoMerge writes, and EvoMerge's bf16/f16 rounding of float32 equals torch's.</summary>
    [PythonReferenceFact("torch")]
    public void PyTorch_reads_EvoMerge_files_and_agrees_with_its_rounding()
    {
        float[] source = RoundingProbes();
        using var dir = new TempFolder();
        var specs = new[]
        {
            new TensorSpec("source", DType.F32, [source.Length]),
            new TensorSpec("bf16", DType.BF16, [source.Length]),
            new TensorSpec("f16", DType.F16, [source.Length]),
        };
        using (var writer = SafetensorsWriter.Create(dir.Path, specs))
        {
            foreach (var spec in specs) writer.WriteFloat32(spec.Name, source);
            writer.Complete();
        }
        var run = PythonReference.Run($"\"{Script}\" check \"{dir.File("model.safetensors")}\"", TimeSpan.FromMinutes(2));
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Assert.StartsWith("ok", run.Stdout);
    }

    /// <summary>Ties at both parities, carries into the exponent, overflow, subnormals, signed zeros, NaN, and plain random values.</summary>
    internal static float[] RoundingProbes()
    {
        var bits = new List<uint>
        {
            0x3F808000, 0x3F818000, 0x3F808001, 0x3F80FFFF, 0x3FFF8000, 0x7F7FFFFF, 0x7F7F7FFF, 0x00000001,
            0x00018000, 0x80000000, 0x00000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00001, 0x477FF000, 0x477FE000,
        };
        var random = new Random(42);
        for (int i = 0; i < 5000; i++) bits.Add((uint)random.NextInt64(0, 1L << 32));
        for (int i = 0; i < 5000; i++) bits.Add(BitConverter.SingleToUInt32Bits((float)(random.NextDouble() * 2 - 1) * MathF.Pow(2, random.Next(-30, 30))));
        return bits.Select(BitConverter.UInt32BitsToSingle).ToArray();
    }

    static void AssertMatchesTorch(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.ChangeExtension(path, ".expected.json")));
        using var file = SafetensorsFile.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(doc.RootElement.EnumerateObject().Count(), file.Tensors.Count);
        foreach (var entry in doc.RootElement.EnumerateObject())
        {
            var info = file.GetInfo(entry.Name);
            Assert.Equal(entry.Value.GetProperty("dtype").GetString(), info.DType.SafetensorsName());
            Assert.Equal(entry.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()), info.Shape);
            var expected = MemoryMarshal.Cast<byte, uint>(Convert.FromHexString(entry.Value.GetProperty("float32_hex").GetString()!)).ToArray();
            var actual = MemoryMarshal.Cast<float, uint>(DecodeAny(info, file.GetBytes(info))).ToArray();
            Assert.True(expected.Length == actual.Length, $"{entry.Name}: {actual.Length} values, torch has {expected.Length}");
            for (int i = 0; i < expected.Length; i++)
            {
                bool bothNaN = float.IsNaN(BitConverter.UInt32BitsToSingle(expected[i])) && float.IsNaN(BitConverter.UInt32BitsToSingle(actual[i]));
                Assert.True(bothNaN || expected[i] == actual[i], $"{entry.Name}[{i}]: EvoMerge {actual[i]:X8}, torch {expected[i]:X8}");
            }
        }
    }

    /// <summary>Float dtypes through <see cref="FloatConversion"/>; integer dtypes by a plain cast, as torch's .float() does.</summary>
    static float[] DecodeAny(TensorInfo info, ReadOnlySpan<byte> bytes)
    {
        var values = new float[info.ElementCount];
        if (info.DType.IsFloat()) FloatConversion.ToFloat32(bytes, info.DType, values);
        else
            for (int i = 0; i < values.Length; i++)
                values[i] = info.DType switch
                {
                    DType.I64 => MemoryMarshal.Cast<byte, long>(bytes)[i],
                    DType.I32 => MemoryMarshal.Cast<byte, int>(bytes)[i],
                    DType.I16 => MemoryMarshal.Cast<byte, short>(bytes)[i],
                    DType.I8 => (sbyte)bytes[i],
                    _ => bytes[i], // U8, BOOL
                };
        return values;
    }
}
