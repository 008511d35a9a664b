using System.Buffers.Binary;
using System.Text;
using EvoMerge.IO;

namespace EvoMerge.Tests.IO;

/// <summary>
/// Many mutations of a valid file (header bytes flipped, JSON tokens swapped for hostile ones, the length prefix
/// changed, the file cut): each mutant either opens, with every tensor readable inside the file, or fails with
/// <see cref="EvoMergeException"/>. Any other exception, a hang or a huge allocation fails the test.
/// </summary>
public class HeaderFuzzTests
{
    static readonly string[] Tokens =
    [
        "0", "1", "-1", "7", "8", "4294967296", "18446744073709551615", "9223372036854775807", "1e3", "0.5", "null", "true",
        "\"\"", "\"F32\"", "\"BF16\"", "\"BOOL\"", "[]", "{}", "[0]", "[0, 0]", "[1, 2, 3]", "\"__metadata__\"", ",", ":", "\"a\"",
        // Issue 10: string encodings, the format's other dtypes, extreme layer indices.
        "\"\\ud800\"", "\"a\\udc00\"", "\"\\u0000\"", "\"U16\"", "\"U32\"", "\"U64\"", "\"F8_E8M0\"", "\"F4\"",
        "\"model.layers.2147483646.mlp.weight\"", "\"model.layers.99999999999.x\"", "\"model.layers.9999.x\"", "\"layers.-1.x\"",
    ];

    [Fact]
    public void Every_mutated_header_loads_or_fails_with_EvoMergeException()
    {
        byte[] valid = ValidFile();
        var random = new Random(20261127);
        using var dir = new TempFolder();
        int loaded = 0, refused = 0;
        for (int i = 0; i < 2000; i++)
        {
            byte[] mutant = Mutate(valid, random);
            string path = dir.File($"m{i % 10}.safetensors");
            File.WriteAllBytes(path, mutant);
            try
            {
                using var file = SafetensorsFile.Open(path);
                using (var model = ModelFolder.Open(path)) Assert.InRange(model.LayerCount, 0, SanityBounds.MaxLayers); // layer indices bounded
                long sum = 0;
                foreach (var t in file.Tensors)
                {
                    Assert.InRange(file.DataStart + t.DataOffset + t.ByteLength, 0, mutant.Length);
                    if (t.ByteLength <= int.MaxValue) foreach (byte b in file.GetBytes(t)) sum += b;
                }
                loaded++;
            }
            catch (EvoMergeException)
            {
                refused++;
            }
            catch (Exception e)
            {
                Assert.Fail($"mutant {i} threw {e.GetType().Name}: {e.Message}\nheader: {HeaderText(mutant)}");
            }
        }
        // The mutations must exercise both outcomes, or the test proves nothing.
        Assert.True(loaded > 30 && refused > 1000, $"loaded {loaded}, refused {refused}");
    }

    /// <summary>Where a safetensors file is expected: FIFOs, devices and links to them fail cleanly without blocking or reading.</summary>
    [Theory]
    [InlineData("fifo")]
    [InlineData("/dev/zero")]
    [InlineData("/dev/urandom")]
    [InlineData("/dev/null")]
    public void Devices_and_fifos_fail_with_EvoMergeException(string kind)
    {
        using var dir = new TempFolder();
        string path = dir.File("model.safetensors");
        if (kind == "fifo") AuditIoTests.MakeFifo(path);
        else File.CreateSymbolicLink(path, kind);
        var e = AuditIoTests.FailsCleanly(() => SafetensorsFile.Open(path).Dispose());
        Assert.Contains("not a regular file", e.Message);
        e = AuditIoTests.FailsCleanly(() => ModelFolder.Open(dir.Path).Dispose());
        Assert.Contains("not a regular file", e.Message);
    }

    /// <summary>The same for the index of a sharded model: mutants of model.safetensors.index.json over two valid shards.</summary>
    [Fact]
    public void Every_mutated_index_loads_or_fails_with_EvoMergeException()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("s1.safetensors"), HostileFileTests.FileBytes("""{"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}""", 1));
        File.WriteAllBytes(dir.File("s2.safetensors"), HostileFileTests.FileBytes("""{"b": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}""", 1));
        string valid = """{"metadata": {"total_size": 2}, "weight_map": {"a": "s1.safetensors", "b": "s2.safetensors"}}""";
        var random = new Random(7);
        int loaded = 0;
        for (int i = 0; i < 500; i++)
        {
            string mutant = valid;
            for (int m = random.Next(1, 3); m > 0; m--)
                mutant = random.Next(3) switch
                {
                    0 => ReplaceToken(mutant, random),
                    1 => mutant.Remove(random.Next(mutant.Length), 1),
                    _ => mutant.Insert(random.Next(mutant.Length), ((char)random.Next(32, 127)).ToString()),
                };
            File.WriteAllText(dir.File(SafetensorsModel.IndexFileName), mutant);
            try
            {
                using var model = SafetensorsModel.Open(dir.Path);
                foreach (var t in model.Tensors) Assert.Equal(1, model.GetBytes(t.Name).Length);
                loaded++;
            }
            catch (EvoMergeException) { }
            catch (Exception e)
            {
                Assert.Fail($"index mutant {i} threw {e.GetType().Name}: {e.Message}\nindex: {mutant}");
            }
        }
        Assert.InRange(loaded, 10, 490);
    }

    static byte[] ValidFile() => HostileFileTests.FileBytes("""
        {"__metadata__": {"format": "pt"},
         "a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
         "b": {"dtype": "BF16", "shape": [3], "data_offsets": [16, 22]},
         "c": {"dtype": "U8", "shape": [2], "data_offsets": [22, 24]}}
        """, 24);

    static byte[] Mutate(byte[] valid, Random random)
    {
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(valid);
        var header = Encoding.UTF8.GetString(valid, 8, headerLength);
        var data = valid.AsSpan(8 + headerLength).ToArray();
        int dataLength = data.Length;
        ulong? forcedLength = null;
        (int Position, byte Value)? rawByte = null;
        for (int m = random.Next(1, 3); m > 0; m--)
        {
            switch (random.Next(8))
            {
                case 6: // duplicate a field inside a tensor entry (the reference reader refuses it)
                    int brace = header.IndexOf('{', 1 + random.Next(Math.Max(1, header.Length - 1)));
                    if (brace > 0) header = header.Insert(brace + 1, random.Next(2) == 0 ? "\"dtype\": \"F32\", " : "\"shape\": [1], ");
                    break;
                case 7: // a raw byte that is not UTF-8 text, set after encoding
                    rawByte = (random.Next(4), (byte)random.Next(0x80, 0x100));
                    break;
                case 0: // replace one character by a random byte
                    header = header.Remove(random.Next(header.Length), 1).Insert(random.Next(header.Length), ((char)random.Next(32, 127)).ToString());
                    break;
                case 1: // replace a token (a number, a string, a bracket) by a hostile one
                    header = ReplaceToken(header, random);
                    break;
                case 2: // delete a stretch
                    int start = random.Next(header.Length);
                    header = header.Remove(start, Math.Min(random.Next(1, 12), header.Length - start));
                    break;
                case 3: // change the length prefix
                    forcedLength = random.Next(3) switch { 0 => (ulong)random.Next(0, 400), 1 => ulong.MaxValue - (ulong)random.Next(100), _ => (ulong)random.NextInt64() };
                    break;
                case 4: // cut or extend the data
                    dataLength = Math.Max(0, dataLength + random.Next(-10, 10));
                    break;
                case 5: // swap two characters
                    int x = random.Next(header.Length), y = random.Next(header.Length);
                    var chars = header.ToCharArray();
                    (chars[x], chars[y]) = (chars[y], chars[x]);
                    header = new string(chars);
                    break;
            }
            if (header.Length == 0) header = "{";
        }
        var bytes = HostileFileTests.FileBytes(header, dataLength);
        data.AsSpan(0, Math.Min(data.Length, dataLength)).CopyTo(bytes.AsSpan(bytes.Length - dataLength));
        if (forcedLength is ulong l) BinaryPrimitives.WriteUInt64LittleEndian(bytes, l);
        if (rawByte is var (quarter, value) && bytes.Length > 9)
            bytes[8 + (bytes.Length - 9) * quarter / 4] = value;
        if (random.Next(20) == 0) bytes = bytes[..random.Next(bytes.Length)];
        return bytes;
    }

    static string ReplaceToken(string header, Random random)
    {
        // Tokens are runs of digits, quoted strings, or single brackets.
        var spans = new List<(int Start, int Length)>();
        for (int i = 0; i < header.Length;)
        {
            int j = i;
            if (char.IsAsciiDigit(header[i])) while (j < header.Length && char.IsAsciiDigit(header[j])) j++;
            else if (header[i] == '"') { j = header.IndexOf('"', i + 1); j = j < 0 ? header.Length : j + 1; }
            else if ("[]{}".Contains(header[i])) j = i + 1;
            else { i++; continue; }
            spans.Add((i, j - i));
            i = j;
        }
        if (spans.Count == 0) return header;
        var (s, len) = spans[random.Next(spans.Count)];
        return header.Remove(s, len).Insert(s, Tokens[random.Next(Tokens.Length)]);
    }

    static string HeaderText(byte[] file) => file.Length < 8 ? "(too short)" : Encoding.UTF8.GetString(file, 8, Math.Min(file.Length - 8, 400));
}
