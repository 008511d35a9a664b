using System.Diagnostics;
using System.Text;
using EvoMerge.IO;

namespace EvoMerge.Tests.IO;

/// <summary>
/// Issue 10's audit of the readers, one regression test per item: hostile layer indices (4), FIFOs (5), devices (6),
/// strings that are not Unicode and duplicate keys (8), the format's dtypes and duplicate fields (9). Each asserts the
/// specific clean error; anything that could hang runs under a time bound.
/// </summary>
public class AuditIoTests
{
    /// <summary>Runs <paramref name="action"/> and expects the project's error within 20 s (a hang fails the test instead of the run).</summary>
    internal static EvoMergeException FailsCleanly(Action action)
    {
        var task = Task.Run(action);
        Assert.True(Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(20))).Result == task, "hung for 20 s");
        return Assert.IsType<EvoMergeException>(Assert.Single(Assert.IsType<AggregateException>(task.Exception).InnerExceptions));
    }

    internal static void MakeFifo(string path)
    {
        using var p = Process.Start(new ProcessStartInfo("mkfifo", [path]) { UseShellExecute = false })!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }

    static string OneTensor(string name) => $$$"""{"{{{name}}}": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}""";

    [Fact]
    public void Item4_a_layer_index_of_2147483646_is_a_clean_error_not_a_loop()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("model.safetensors"), HostileFileTests.FileBytes(OneTensor("model.layers.2147483646.mlp.weight"), 1));
        var e = FailsCleanly(() => ModelFolder.Open(dir.Path).Dispose());
        Assert.Contains("tensor 'model.layers.2147483646.mlp.weight' is in layer 2147483646; at most 10000 layers", e.Message);
    }

    [Fact]
    public void Item4_num_hidden_layers_2147483647_is_a_clean_error()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("model.safetensors"), HostileFileTests.FileBytes(OneTensor("model.embed_tokens.weight"), 1));
        File.WriteAllText(dir.File("config.json"), """{"num_hidden_layers": 2147483647}""");
        var e = FailsCleanly(() => ModelFolder.Open(dir.Path).Dispose());
        Assert.Contains("config.json: field 'num_hidden_layers' must be at most 10000, got 2147483647", e.Message);
    }

    [Theory]
    [InlineData("config.json")]
    [InlineData("model.safetensors")]
    [InlineData("model.safetensors.index.json")]
    [InlineData("tokenizer.json")]
    public void Item5_a_fifo_in_a_model_folder_is_refused_without_blocking(string name)
    {
        using var dir = new TempFolder();
        if (name != "model.safetensors") TinyModel.Write(dir.Path, maxShardBytes: 1 << 20);
        if (File.Exists(dir.File(name))) File.Delete(dir.File(name));
        MakeFifo(dir.File(name));
        var e = FailsCleanly(() => ModelFolder.Open(dir.Path).Dispose());
        Assert.Contains($"{name}: not a regular file (a FIFO, device or socket)", e.Message);
    }

    [Fact]
    public void Item6_config_json_linked_to_dev_zero_is_refused_before_reading()
    {
        using var dir = new TempFolder();
        TinyModel.Write(dir.Path);
        File.Delete(dir.File("config.json"));
        File.CreateSymbolicLink(dir.File("config.json"), "/dev/zero");
        var e = FailsCleanly(() => ModelFolder.Open(dir.Path).Dispose());
        Assert.Contains("config.json: not a regular file", e.Message);
    }

    [Fact]
    public void Item6_dev_zero_as_a_model_is_refused()
    {
        var e = FailsCleanly(() => ModelFolder.Open("/dev/zero").Dispose());
        Assert.Contains("/dev/zero: not a regular file", e.Message);
    }

    [Fact]
    public void Item6_reads_stop_at_their_byte_cap_even_when_the_length_lies()
    {
        // A regular file growing while read, or one larger than the cap: the count is of bytes read, not FileInfo.Length.
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("big.json"), new byte[5000]);
        var e = Assert.Throws<EvoMergeException>(() => InputFile.ReadAllBytes(dir.File("big.json"), 4096, "config.json"));
        Assert.Contains("more than 4096 bytes, too large for a config.json", e.Message);
        Assert.Equal(5000, InputFile.ReadAllBytes(dir.File("big.json"), 5000).Length);
    }

    [Theory]
    [InlineData("\"\\ud800\"")]          // an escaped lone surrogate
    [InlineData("\"a\\udc00b\"")]
    public void Item8_a_lone_surrogate_in_a_tensor_name_is_a_clean_error(string name)
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("m.safetensors"), HostileFileTests.FileBytes($$$"""{{{{name}}}: {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}""", 1));
        var e = FailsCleanly(() => SafetensorsFile.Open(dir.File("m.safetensors")).Dispose());
        Assert.True(e.Message.Contains("m.safetensors: the header holds a string that is not valid Unicode"), e.Message);
    }

    [Fact]
    public void Item8_invalid_utf8_in_a_tensor_name_is_a_clean_error()
    {
        using var dir = new TempFolder();
        var bytes = HostileFileTests.FileBytes(OneTensor("ab"), 1);
        int at = Encoding.ASCII.GetString(bytes).IndexOf("ab", StringComparison.Ordinal);
        bytes[at] = 0xC3; bytes[at + 1] = 0x28;   // a two-byte lead followed by a non-continuation byte
        File.WriteAllBytes(dir.File("m.safetensors"), bytes);
        var e = FailsCleanly(() => SafetensorsFile.Open(dir.File("m.safetensors")).Dispose());
        Assert.Contains("m.safetensors: ", e.Message);
        Assert.Matches("not valid JSON|not valid Unicode", e.Message);
    }

    [Fact]
    public void Item8_a_lone_surrogate_in_an_index_is_a_clean_error()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("s.safetensors"), HostileFileTests.FileBytes(OneTensor("a"), 1));
        File.WriteAllText(dir.File(SafetensorsModel.IndexFileName), """{"weight_map": {"\ud800": "s.safetensors"}}""");
        var e = FailsCleanly(() => SafetensorsModel.Open(dir.Path).Dispose());
        Assert.Contains("model.safetensors.index.json: holds a string that is not valid Unicode", e.Message);
    }

    [Fact]
    public void Item8_duplicate_keys_in_config_json_are_a_clean_error()
    {
        using var dir = new TempFolder();
        TinyModel.Write(dir.Path, config: """{"num_hidden_layers": 2, "hidden_size": 8, "hidden_size": 16}""");
        var e = FailsCleanly(() => ModelFolder.Open(dir.Path).Dispose());
        Assert.Contains("config.json: not valid JSON", e.Message);
        Assert.Contains("hidden_size", e.Message);
    }

    [Fact]
    public void Item8_a_lone_surrogate_in_config_json_is_a_clean_error()
    {
        using var dir = new TempFolder();
        TinyModel.Write(dir.Path, config: """{"num_hidden_layers": 2, "model_type": "\udfff"}""");
        var e = FailsCleanly(() => ModelFolder.Open(dir.Path).Dispose());
        Assert.Contains("config.json: holds a string that is not valid Unicode", e.Message);
    }

    [Theory]
    [InlineData("U16", 2)]
    [InlineData("U32", 4)]
    [InlineData("U64", 8)]
    [InlineData("F8_E8M0", 1)]
    public void Item9_every_fixed_width_dtype_of_the_format_is_read(string dtype, int size)
    {
        using var dir = new TempFolder();
        var bytes = HostileFileTests.FileBytes($$$"""{"t": {"dtype": "{{{dtype}}}", "shape": [3], "data_offsets": [0, {{{3 * size}}}]}}""", 3 * size);
        for (int i = 0; i < 3 * size; i++) bytes[^(3 * size - i)] = (byte)(i + 1);
        File.WriteAllBytes(dir.File("m.safetensors"), bytes);
        using var file = SafetensorsFile.Open(dir.File("m.safetensors"));
        var t = Assert.Single(file.Tensors);
        Assert.Equal(dtype, t.DType.SafetensorsName());
        Assert.Equal(Enumerable.Range(1, 3 * size).Select(i => (byte)i), file.GetBytes(t).ToArray());
    }

    [Theory]
    [InlineData("F4")]
    [InlineData("F6_E2M3")]
    [InlineData("F6_E3M2")]
    public void Item9_packed_dtypes_are_named_as_unsupported_not_unknown(string dtype)
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("m.safetensors"), HostileFileTests.FileBytes($$$"""{"t": {"dtype": "{{{dtype}}}", "shape": [2], "data_offsets": [0, 1]}}""", 1));
        var e = FailsCleanly(() => SafetensorsFile.Open(dir.File("m.safetensors")).Dispose());
        Assert.Contains($"tensor 't': dtype '{dtype}' packs several values per byte", e.Message);
    }

    [Theory]
    [InlineData("\"dtype\": \"F64\", \"dtype\": \"F32\"", "dtype")]
    [InlineData("\"dtype\": \"F32\", \"shape\": [1], \"shape\": [1]", "shape")]
    public void Item9_a_field_duplicated_inside_a_tensor_entry_is_refused(string fields, string field)
    {
        string header = $$$"""{"t": {{{{fields}}}, "data_offsets": [0, 4]}}""";
        if (!header.Contains("shape")) header = header.Replace("\"data_offsets\"", "\"shape\": [1], \"data_offsets\"");
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("m.safetensors"), HostileFileTests.FileBytes(header, 4));
        var e = FailsCleanly(() => SafetensorsFile.Open(dir.File("m.safetensors")).Dispose());
        Assert.Contains($"tensor 't': field '{field}' appears twice", e.Message);
    }

    [Theory]
    [InlineData("/dev/zero")]
    [InlineData("fifo")]
    public void Item6_fitness_data_that_is_a_device_or_fifo_is_refused(string kind)
    {
        using var dir = new TempFolder();
        string path = kind;
        if (kind == "fifo") AuditIoTests.MakeFifo(path = dir.File("data.tsv"));
        var e = FailsCleanly(() => EvoMerge.Evaluation.Data.MgsmData.LoadTsv(path));
        Assert.Contains($"{path}: not a regular file", e.Message);
        e = FailsCleanly(() => EvoMerge.Evaluation.Data.JsonlRecords.Read(path));
        Assert.Contains($"{path}: not a regular file", e.Message);
    }

    [Fact]
    public void Item6_a_data_file_over_its_cap_fails_while_streaming()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("d.tsv"), string.Concat(Enumerable.Repeat("q\t1\n", 3000)));
        var e = Assert.Throws<EvoMergeException>(() => InputFile.ReadLines(dir.File("d.tsv"), 1000, "data file").Count());
        Assert.Contains("more than 1000 bytes, too large for a data file", e.Message);
    }
}
