using EvoMerge.IO;

namespace EvoMerge.Tests.IO;

public class RoundTripTests
{
    /// <summary>Every dtype of the format, several shards, bytes read back identical to the bytes written.</summary>
    [Fact]
    public void Model_with_every_dtype_in_several_shards_reads_back_bit_identical()
    {
        using var dir = new TempFolder();
        var random = new Random(7);
        var specs = new List<TensorSpec>();
        var data = new Dictionary<string, byte[]>();
        foreach (var dtype in Enum.GetValues<DType>())
        {
            foreach (var shape in new long[][] { [3, 5], [17], [] , [0, 4] })
            {
                var spec = new TensorSpec($"t.{dtype}.{string.Join("x", shape)}", dtype, shape);
                var bytes = new byte[spec.ByteLength];
                random.NextBytes(bytes);
                specs.Add(spec);
                data[spec.Name] = bytes;
            }
        }
        string[] written;
        using (var writer = SafetensorsWriter.Create(dir.Path, specs, maxShardBytes: 100))
        {
            // Out of order and in two pieces each, as a parallel producer would.
            foreach (var spec in specs.AsEnumerable().Reverse())
            {
                var bytes = data[spec.Name];
                int half = bytes.Length / 2;
                writer.WriteBytes(spec.Name, bytes.AsSpan(half), half);
                writer.WriteBytes(spec.Name, bytes.AsSpan(0, half));
            }
            written = writer.Complete().ToArray();
        }
        Assert.True(written.Length > 3, $"expected several shards, got {string.Join(", ", written)}");
        Assert.Empty(Directory.GetFiles(dir.Path, "*.partial"));

        using var model = SafetensorsModel.Open(dir.Path);
        Assert.NotNull(model.IndexPath);
        Assert.Equal(specs.Select(s => s.Name), model.Tensors.Select(t => t.Name));
        foreach (var spec in specs)
        {
            var info = model.GetInfo(spec.Name);
            Assert.Equal(spec.DType, info.DType);
            Assert.Equal(spec.Shape, info.Shape);
            Assert.True(data[spec.Name].AsSpan().SequenceEqual(model.GetBytes(spec.Name)), spec.Name);
        }
        foreach (var file in model.Files)
        {
            Assert.Equal("pt", file.Metadata["format"]);
            Assert.Equal(0, file.DataStart % 8);
        }
    }
}
