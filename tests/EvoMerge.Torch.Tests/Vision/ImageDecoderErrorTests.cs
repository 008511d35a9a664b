using System.IO.Compression;
using System.Text;
using EvoMerge.Torch.Vision.Images;

namespace EvoMerge.Torch.Tests.Vision;

/// <summary>Bad image files give one-line errors naming the file; a decompression bomb is refused from its header.</summary>
public class ImageDecoderErrorTests
{
    [Fact]
    public void MissingImageIsNamed()
    {
        string path = Path.Combine(Path.GetTempPath(), "no-such-image-" + Guid.NewGuid().ToString("N") + ".png");
        var e = Assert.Throws<EvoMergeException>(() => ImageDecoder.Decode(path));
        Assert.Equal($"{path}: image not found", e.Message);
    }

    [Fact]
    public void UndecodableImageIsNamed()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "this is not an image at all");
            var e = Assert.Throws<EvoMergeException>(() => ImageDecoder.Decode(path));
            Assert.StartsWith(path + ": not a decodable image", e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void DecompressionBombIsRefusedBeforeDecoding()
    {
        // A valid PNG header declaring 30000×30000 RGB (2.7 GB decoded) with a few kB of compressed rows.
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, Png(30000, 30000, rows: 3));
            Assert.True(new FileInfo(path).Length < 8 << 10);
            long before = GC.GetTotalAllocatedBytes(precise: true);
            var e = Assert.Throws<EvoMergeException>(() => ImageDecoder.Decode(path));
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            Assert.StartsWith($"{path}: image header declares 30000×30000 pixels", e.Message);
            Assert.True(allocated < 16 << 20, $"{allocated} bytes allocated before refusing");
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void TruncatedImageIsNamed()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, Png(64, 64, rows: 3));   // 3 of 64 rows present
            var e = Assert.Throws<EvoMergeException>(() => ImageDecoder.Decode(path));
            Assert.StartsWith(path + ": ", e.Message);
        }
        finally { File.Delete(path); }
    }

    /// <summary>An 8-bit RGB PNG of the given size holding only the first <paramref name="rows"/> rows (zeros).</summary>
    static byte[] Png(int width, int height, int rows)
    {
        using var file = new MemoryStream();
        file.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; ihdr[9] = 2;   // bit depth 8, colour type RGB
        Chunk(file, "IHDR", ihdr);
        using var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
            z.Write(new byte[rows * (1 + 3L * width)]);
        Chunk(file, "IDAT", compressed.ToArray());
        Chunk(file, "IEND", []);
        return file.ToArray();
    }

    static void Chunk(Stream s, string type, byte[] data)
    {
        var header = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header, data.Length);
        s.Write(header);
        var body = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        s.Write(body);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(header, Crc32(body));
        s.Write(header);
    }

    static uint Crc32(byte[] bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }
}
