using System.Buffers.Binary;
using System.Text;
using EvoMerge.IO;

namespace EvoMerge.Tests.IO;

/// <summary>Broken and hostile safetensors files and indexes: each fails with an <see cref="EvoMergeException"/> naming the file and the problem.</summary>
public class HostileFileTests
{
    /// <summary>A file with the given header text and <paramref name="dataBytes"/> bytes of data.</summary>
    internal static byte[] FileBytes(string header, int dataBytes)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        return bytes;
    }

    static EvoMergeException OpenFails(byte[] bytes)
    {
        using var dir = new TempFolder();
        string path = dir.File("bad.safetensors");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<EvoMergeException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.Contains(path, e.Message);
        return e;
    }

    static EvoMergeException OpenFails(string header, int dataBytes) => OpenFails(FileBytes(header, dataBytes));

    [Fact]
    public void File_shorter_than_the_length_prefix() =>
        Assert.Contains("too short", OpenFails([1, 2, 3]).Message);

    [Fact]
    public void Header_length_beyond_the_file()
    {
        var bytes = FileBytes("{}", 0);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 4096);
        Assert.Contains("runs past the end", OpenFails(bytes).Message);
    }

    [Theory]
    [InlineData(100_000_001UL)]
    [InlineData(ulong.MaxValue)]
    public void Header_length_above_the_cap_is_refused_before_allocating(ulong length)
    {
        var bytes = FileBytes("{}", 0);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, length);
        Assert.Contains("exceeds the 100000000-byte cap", OpenFails(bytes).Message);
    }

    [Theory]
    [InlineData("{\"a\": {\"dtype\": \"F32\"")]
    [InlineData("not json at all")]
    [InlineData("{} {}")]
    [InlineData("{\"a\": 1,}")]
    public void Invalid_json(string header) => Assert.Contains("not valid JSON", OpenFails(header, 0).Message);

    [Fact]
    public void Invalid_utf8() => Assert.Contains("not valid JSON", OpenFails([.. FileBytes("{\"\"}", 0)[..9], 0xFF, 0xFE, (byte)'"', (byte)':', (byte)'1', (byte)'}']).Message);

    [Fact]
    public void Header_that_is_not_an_object() =>
        Assert.Contains("must be a JSON object", OpenFails("[1, 2]", 0).Message);

    [Fact]
    public void Offsets_beyond_the_data() =>
        Assert.Contains("beyond its 8 bytes", OpenFails("""{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}""", 8).Message);

    [Fact]
    public void Overlapping_tensors() =>
        Assert.Contains("overlaps tensor 'a'", OpenFails("""
            {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
             "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}
            """, 12).Message);

    [Fact]
    public void Gap_between_tensors() =>
        Assert.Contains("the data has a gap", OpenFails("""
            {"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
             "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}
            """, 12).Message);

    [Fact]
    public void Offsets_that_end_before_they_begin() =>
        Assert.Contains("end before they begin", OpenFails("""{"a": {"dtype": "U8", "shape": [0], "data_offsets": [4, 0]}}""", 4).Message);

    [Fact]
    public void Trailing_bytes_after_the_last_tensor() =>
        Assert.Contains("cover 4 bytes of data but the data section holds 9", OpenFails("""{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}""", 9).Message);

    [Fact]
    public void Byte_length_not_shape_times_element_size() =>
        Assert.Contains("span 8 bytes but shape [3] of BF16 needs 6", OpenFails("""{"a": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 8]}}""", 8).Message);

    [Fact]
    public void Shape_whose_size_overflows() =>
        Assert.Contains("is too large", OpenFails("""{"a": {"dtype": "F64", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]}}""", 8).Message);

    [Theory]
    [InlineData("[-1]")]
    [InlineData("[1.5]")]
    [InlineData("[\"2\"]")]
    [InlineData("3")]
    public void Shape_that_is_not_non_negative_integers(string shape) =>
        Assert.Contains("'shape' must be an array of non-negative integers", OpenFails($$$"""{"a": {"dtype": "U8", "shape": {{{shape}}}, "data_offsets": [0, 1]}}""", 1).Message);

    [Fact]
    public void Data_offsets_with_three_entries() =>
        Assert.Contains("'data_offsets' must have 2 entries, found 3", OpenFails("""{"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1, 2]}}""", 1).Message);

    [Fact]
    public void Duplicate_tensor_names() =>
        Assert.Contains("tensor 'a' appears twice", OpenFails("""
            {"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},
             "a": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}}
            """, 2).Message);

    [Theory]
    [InlineData("F12")]
    [InlineData("f32")]
    [InlineData("3")]
    [InlineData("F32,F16")]
    public void Unknown_dtype(string dtype) =>
        Assert.Contains($"unknown dtype '{dtype}'", OpenFails($$$"""{"a": {"dtype": "{{{dtype}}}", "shape": [1], "data_offsets": [0, 4]}}""", 4).Message);

    [Fact]
    public void Missing_dtype() =>
        Assert.Contains("'dtype' must be a string", OpenFails("""{"a": {"shape": [1], "data_offsets": [0, 4]}}""", 4).Message);

    [Fact]
    public void Metadata_values_must_be_strings() =>
        Assert.Contains("'__metadata__.format' must be a string", OpenFails("""{"__metadata__": {"format": 1}}""", 0).Message);

    [Fact]
    public void Deeply_nested_json_is_refused_not_recursed() =>
        Assert.Contains("not valid JSON", OpenFails("{\"a\":" + new string('[', 100_000) + new string(']', 100_000) + "}", 0).Message);

    static EvoMergeException IndexFails(string index, params (string Name, byte[] Bytes)[] shards)
    {
        using var dir = new TempFolder();
        foreach (var (name, bytes) in shards) File.WriteAllBytes(dir.File(name), bytes);
        File.WriteAllText(dir.File(SafetensorsModel.IndexFileName), index);
        var e = Assert.Throws<EvoMergeException>(() => SafetensorsModel.Open(dir.Path).Dispose());
        Assert.Contains(SafetensorsModel.IndexFileName, e.Message);
        return e;
    }

    static readonly byte[] OneTensorShard = FileBytes("""{"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}""", 1);

    [Fact]
    public void Index_pointing_to_a_missing_shard() =>
        Assert.Contains("weight_map sends tensor 'b' to shard 'model-00002-of-00002.safetensors', which does not exist",
            IndexFails("""{"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}""",
                ("model-00001-of-00002.safetensors", OneTensorShard)).Message);

    [Fact]
    public void Index_pointing_to_a_shard_without_the_tensor() =>
        Assert.Contains("which does not contain it",
            IndexFails("""{"weight_map": {"zzz": "s.safetensors"}}""", ("s.safetensors", OneTensorShard)).Message);

    [Theory]
    [InlineData("../s.safetensors")]
    [InlineData("/etc/passwd")]
    [InlineData("..")]
    public void Index_pointing_outside_its_folder(string shard) =>
        Assert.Contains("must be a file name in the index's folder",
            IndexFails($$$"""{"weight_map": {"a": "{{{shard}}}"}}""", ("s.safetensors", OneTensorShard)).Message);

    [Fact]
    public void Tensor_of_a_shard_missing_from_the_index_is_not_part_of_the_model()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("s.safetensors"), FileBytes("""
            {"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},
             "b": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}}
            """, 2));
        File.WriteAllText(dir.File(SafetensorsModel.IndexFileName), """{"weight_map": {"b": "s.safetensors"}}""");
        using var model = SafetensorsModel.Open(dir.Path);
        Assert.Equal(["b"], model.Tensors.Select(t => t.Name));
        Assert.False(model.Contains("a"));
    }

    [Fact]
    public void Index_without_weight_map() =>
        Assert.Contains("'weight_map' object", IndexFails("""{"metadata": {}}""").Message);

    [Fact]
    public void Index_that_is_not_json() =>
        Assert.Contains("not valid JSON", IndexFails("{weight_map").Message);

    [Fact]
    public void Same_tensor_in_two_unindexed_files()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("a.safetensors"), OneTensorShard);
        File.WriteAllBytes(dir.File("b.safetensors"), OneTensorShard);
        Assert.Contains("tensor 'a' is also in", Assert.Throws<EvoMergeException>(() => SafetensorsModel.Open(dir.Path)).Message);
    }

    [Fact]
    public void Folder_without_weights()
    {
        using var dir = new TempFolder();
        Assert.Contains("no model.safetensors.index.json and no .safetensors files", Assert.Throws<EvoMergeException>(() => SafetensorsModel.Open(dir.Path)).Message);
        File.WriteAllBytes(dir.File("pytorch_model.bin"), [0]);
        Assert.Contains("never pickled .bin/.pt weights", Assert.Throws<EvoMergeException>(() => SafetensorsModel.Open(dir.Path)).Message);
    }
}
