using EvoMerge.IO;

namespace EvoMerge.Tests.IO;

public class SafetensorsWriterTests
{
    static readonly TensorSpec[] Two = [new("a", DType.F32, [4]), new("b", DType.BF16, [4])];

    [Fact]
    public void Unfinished_model_leaves_no_files()
    {
        using var dir = new TempFolder();
        using (var writer = SafetensorsWriter.Create(dir.Path, Two, maxShardBytes: 8))
        {
            writer.WriteFloat32("a", [1, 2, 3, 4]);
            Assert.Equal(2, Directory.GetFiles(dir.Path, "*.partial").Length);
            Assert.Empty(Directory.GetFiles(dir.Path, "*.safetensors"));
        }
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void Complete_refuses_a_model_with_missing_bytes()
    {
        using var dir = new TempFolder();
        using var writer = SafetensorsWriter.Create(dir.Path, Two);
        writer.WriteFloat32("a", [1, 2, 3, 4]);
        writer.WriteFloat32("b", [1, 2]);
        var e = Assert.Throws<InvalidOperationException>(() => writer.Complete());
        Assert.Contains("'b'", e.Message);
    }

    [Fact]
    public void Writes_outside_a_tensor_or_to_undeclared_names_are_refused()
    {
        using var dir = new TempFolder();
        using var writer = SafetensorsWriter.Create(dir.Path, Two);
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.WriteFloat32("a", [1, 2, 3], elementOffset: 2));
        Assert.Throws<ArgumentException>(() => writer.WriteBytes("c", new byte[1]));
    }

    [Fact]
    public void Bad_declarations_are_refused_before_any_file_is_made()
    {
        using var dir = new TempFolder();
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Create(dir.Path, [new("a", DType.F32, [1]), new("a", DType.F32, [1])]));
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Create(dir.Path, [new("a", DType.F32, [2, -1])]));
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Create(dir.Path, [new("__metadata__", DType.F32, [1])]));
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void Header_is_padded_to_8_bytes_and_keeps_metadata()
    {
        using var dir = new TempFolder();
        using (var writer = SafetensorsWriter.Create(dir.Path, Two, metadata: new Dictionary<string, string> { ["merged_by"] = "evomerge" }))
        {
            writer.WriteFloat32("a", [1, 2, 3, 4]);
            writer.WriteFloat32("b", [1, 2, 3, 4]);
            writer.Complete();
        }
        using var file = SafetensorsFile.Open(dir.File("model.safetensors"));
        Assert.Equal(0, file.DataStart % 8);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal("evomerge", file.Metadata["merged_by"]);
    }

    [Fact]
    public void Rewriting_a_folder_in_another_layout_removes_the_stale_weights()
    {
        using var dir = new TempFolder();
        TinyModel.Write(dir.Path, maxShardBytes: 300);
        Assert.True(File.Exists(dir.File(SafetensorsModel.IndexFileName)));
        TinyModel.Write(dir.Path, maxShardBytes: long.MaxValue);
        Assert.False(File.Exists(dir.File(SafetensorsModel.IndexFileName)));
        using var model = SafetensorsModel.Open(dir.Path);
        Assert.Single(model.Files);
        Assert.Equal(["config.json", "model.safetensors", "tokenizer.json"], Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void Tensors_written_concurrently_from_many_threads_read_back_exactly()
    {
        using var dir = new TempFolder();
        var specs = Enumerable.Range(0, 64).Select(i => new TensorSpec($"t{i}", DType.F32, [1000])).ToArray();
        using (var writer = SafetensorsWriter.Create(dir.Path, specs, maxShardBytes: 40_000))
        {
            Parallel.ForEach(specs, spec => writer.WriteFloat32(spec.Name, Enumerable.Repeat(float.Parse(spec.Name[1..]), 1000).ToArray()));
            writer.Complete();
        }
        using var model = SafetensorsModel.Open(dir.Path);
        Assert.True(model.Files.Count >= 6);
        Parallel.ForEach(specs, spec =>
        {
            var values = new float[1000];
            FloatConversion.ToFloat32(model.GetBytes(spec.Name), DType.F32, values);
            Assert.All(values, v => Assert.Equal(float.Parse(spec.Name[1..]), v));
        });
    }
}
