using EvoMerge.IO.Gguf;

namespace EvoMerge.Tests.Gguf;

public sealed class GgufWriterTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("gguf-writer-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void WritesTheGgufV3LayoutByteForByte()
    {
        var metadata = new GgufMetadata();
        metadata.Add("a", 7u);
        string path = Path.Combine(dir, "tiny.gguf");
        GgufWriter.Write(path, metadata, [new GgufTensor("t", [2], GgufTensorType.F32, v => { v[0] = 1f; v[1] = 2f; })]);

        // Assembled by hand from the GGUF v3 specification (ggml/docs/gguf.md).
        var expected = new List<byte>();
        expected.AddRange("GGUF"u8.ToArray());
        expected.AddRange(U32(3)); expected.AddRange(U64(1)); expected.AddRange(U64(1));       // version, tensors, kv pairs
        expected.AddRange(U64(1)); expected.Add((byte)'a'); expected.AddRange(U32(4)); expected.AddRange(U32(7)); // "a": uint32 7
        expected.AddRange(U64(1)); expected.Add((byte)'t'); expected.AddRange(U32(1));          // tensor "t", 1 dim
        expected.AddRange(U64(2)); expected.AddRange(U32(0)); expected.AddRange(U64(0));        // ne[0]=2, F32, offset 0
        Assert.Equal(74, expected.Count);
        expected.AddRange(new byte[96 - 74]);                                                    // align data to 32
        expected.AddRange([0, 0, 0x80, 0x3F, 0, 0, 0, 0x40]);                                    // 1.0f, 2.0f
        expected.AddRange(new byte[128 - 104]);
        Assert.Equal(expected.ToArray(), File.ReadAllBytes(path));
    }

    [Fact]
    public void ListsDimensionsInnermostFirstAndAlignsEachTensor()
    {
        string path = Path.Combine(dir, "dims.gguf");
        GgufWriter.Write(path, new GgufMetadata(),
        [
            new GgufTensor("m", [3, 32], GgufTensorType.Q8_0, _ => { }),
            new GgufTensor("n", [1], GgufTensorType.F32, _ => { }),
        ]);
        var bytes = File.ReadAllBytes(path);
        int info = 24 + 8 + 1 + 4;                        // header, name "m", n_dims
        Assert.Equal(32UL, BitConverter.ToUInt64(bytes, info));
        Assert.Equal(3UL, BitConverter.ToUInt64(bytes, info + 8));
        Assert.Equal(8U, BitConverter.ToUInt32(bytes, info + 16)); // Q8_0
        int second = info + 16 + 4 + 8 + 8 + 1 + 4 + 8 + 4;      // offset field of "n"
        Assert.Equal(128UL, BitConverter.ToUInt64(bytes, second)); // 3 × 34 = 102 bytes, padded to 128
    }

    [Fact]
    public void AFailedWriteLeavesNoFileAndNoTemporary()
    {
        string path = Path.Combine(dir, "new.gguf");
        var e = Assert.Throws<EvoMergeException>(() => GgufWriter.Write(path, new GgufMetadata(),
            [new GgufTensor("t", [4], GgufTensorType.F32, _ => throw new IOException("disk gone"))]));
        Assert.Contains("disk gone", e.Message);
        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public void AnExistingFileIsNeverReplaced()
    {
        string path = Path.Combine(dir, "keep.gguf");
        File.WriteAllText(path, "old");
        var e = Assert.Throws<EvoMergeException>(() => GgufWriter.Write(path, new GgufMetadata(),
            [new GgufTensor("t", [2], GgufTensorType.F32, _ => { })]));
        Assert.Contains("already exists", e.Message);
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(dir));
    }

    [Fact]
    public void RefusesQ8_0RowsThatAreNotWholeBlocks()
    {
        var e = Assert.Throws<ArgumentException>(() => GgufWriter.Write(Path.Combine(dir, "x.gguf"), new GgufMetadata(),
            [new GgufTensor("w", [4, 172], GgufTensorType.Q8_0, _ => { })]));
        Assert.Contains("'w'", e.Message);
        Assert.Empty(Directory.GetFiles(dir));
    }

    static byte[] U32(uint v) => BitConverter.GetBytes(v);
    static byte[] U64(ulong v) => BitConverter.GetBytes(v);
}
