using System.Collections.Concurrent;
using System.Diagnostics;
using EvoMerge.IO;

namespace EvoMerge.Bench.IO;

/// <summary>
/// Reads a generated multi-GB sharded bf16 model through <see cref="SafetensorsModel"/>, touching every byte and
/// converting bf16 → f32 in parallel 1 MiB blocks, and compares the rate with a plain parallel memory copy measured
/// in the same run. The file is read page-cache-warm (one untimed pass first): this measures EvoMerge's reader,
/// not the disk. The converted floats land in a per-thread buffer that stays in cache, as in the merge executor,
/// so both workloads stream the same number of bytes from memory per byte of model.
/// Usage: <c>io-read [gigabytes=2.5] [threads=all cores] [passes=5]</c>.
/// </summary>
sealed class SafetensorsReadBenchmark : IBenchmark
{
    public string Name => "io-read";
    public string Description => "safetensors read + bf16→f32 conversion vs memory-copy bandwidth (multi-GB sharded model, page-cache warm)";

    const int BlockBytes = 1 << 20;
    const long ShardBytes = 1L << 30;
    static readonly long[] TensorShape = [4096, 4096]; // 32 MiB of bf16, a 7B model's attention projection

    public void Run(string[] args)
    {
        double gigabytes = args.Length > 0 ? double.Parse(args[0]) : 2.5;
        int threads = args.Length > 1 ? int.Parse(args[1]) : Environment.ProcessorCount;
        int passes = args.Length > 2 ? int.Parse(args[2]) : 5;
        var folder = Directory.CreateTempSubdirectory("evomerge-io-bench-");
        try
        {
            var sw = Stopwatch.StartNew();
            long bytes = Generate(folder.FullName, (long)(gigabytes * 1e9));
            Console.WriteLine($"generated {bytes / 1e9:F2} GB of bf16 in {Directory.GetFiles(folder.FullName, "*.safetensors").Length} shards in {sw.Elapsed.TotalSeconds:F1} s ({folder.FullName})");

            using var model = SafetensorsModel.Open(folder.FullName);
            var blocks = Blocks(model);
            var options = new ParallelOptions { MaxDegreeOfParallelism = threads };
            ReadAndConvert(model, blocks, options); // untimed: page cache warm, mapping populated

            var source = GC.AllocateUninitializedArray<byte>(1 << 30);
            var destination = GC.AllocateUninitializedArray<byte>(1 << 30);
            source.AsSpan().Fill(2);       // fault every page in before timing
            destination.AsSpan().Fill(1);
            // Alternate the two workloads so that both see the same neighbours' load on a shared machine.
            var copyRates = new List<double>();
            var readRates = new List<double>();
            for (int pass = 0; pass < passes; pass++)
            {
                copyRates.Add(CopyBandwidth(source, destination, options));
                readRates.Add(Time(bytes, () => ReadAndConvert(model, blocks, options)));
            }
            var copy = Summarise(copyRates);
            var read = Summarise(readRates);
            Console.WriteLine();
            Console.WriteLine($"threads: {threads}, model: {bytes / 1e9:F2} GB, blocks of {BlockBytes >> 20} MiB, best of {passes} passes, alternating (all passes in GB/s)");
            Console.WriteLine($"{"workload",-44} {"GB/s",8}   passes");
            Console.WriteLine($"{"memory copy (bytes copied / s)",-44} {copy.Best,8:F1}   {copy.All}");
            Console.WriteLine($"{"read + bf16→f32 (model bytes / s)",-44} {read.Best,8:F1}   {read.All}");
            Console.WriteLine($"read+convert / copy: {read.Best / copy.Best:P0} (target ≥ 70%); floor for this model at copy speed: {bytes / 1e9 / copy.Best:F3} s, measured {bytes / 1e9 / read.Best:F3} s");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>Writes whole 4096×4096 bf16 tensors through <see cref="SafetensorsWriter"/> until <paramref name="target"/> bytes.</summary>
    static long Generate(string folder, long target)
    {
        var spec = new TensorSpec("", DType.BF16, TensorShape);
        int count = (int)Math.Max(1, target / spec.ByteLength);
        var specs = Enumerable.Range(0, count).Select(i => spec with { Name = $"model.layers.{i}.self_attn.q_proj.weight" }).ToList();
        var values = new byte[spec.ByteLength];
        new Random(1).NextBytes(values);
        using var writer = SafetensorsWriter.Create(folder, specs, ShardBytes);
        foreach (var s in specs) writer.WriteBytes(s.Name, values);
        writer.Complete();
        return count * spec.ByteLength;
    }

    static List<(TensorInfo Tensor, long Start, int Length)> Blocks(SafetensorsModel model) =>
        model.Tensors.SelectMany(t => Enumerable.Range(0, (int)((t.ByteLength + BlockBytes - 1) / BlockBytes))
            .Select(i => (t, (long)i * BlockBytes, (int)Math.Min(BlockBytes, t.ByteLength - (long)i * BlockBytes)))).ToList();

    /// <summary>Converts every block; returns a checksum so that nothing can be skipped.</summary>
    static float ReadAndConvert(SafetensorsModel model, List<(TensorInfo Tensor, long Start, int Length)> blocks, ParallelOptions options)
    {
        float checksum = 0;
        object gate = new();
        Parallel.ForEach(Partitioner.Create(0, blocks.Count, 16), options, () => (Buffer: new float[BlockBytes / 2], Sum: 0f),
            (range, _, local) =>
            {
                for (int i = range.Item1; i < range.Item2; i++)
                {
                    var (tensor, start, length) = blocks[i];
                    var output = local.Buffer.AsSpan(0, length / 2);
                    FloatConversion.ToFloat32(model.GetBytes(tensor, start, length), DType.BF16, output);
                    local.Sum += output[^1];
                }
                return local;
            },
            local => { lock (gate) checksum += local.Sum; });
        return checksum;
    }

    /// <summary>Copies 1 GiB (far past the caches) in parallel 1 MiB blocks; returns bytes copied per second, in GB/s.</summary>
    static double CopyBandwidth(byte[] source, byte[] destination, ParallelOptions options)
    {
        var sw = Stopwatch.StartNew();
        Parallel.For(0, source.Length / BlockBytes, options, i => source.AsSpan(i * BlockBytes, BlockBytes).CopyTo(destination.AsSpan(i * BlockBytes, BlockBytes)));
        return source.Length / 1e9 / sw.Elapsed.TotalSeconds;
    }

    static double Time(long bytes, Action action)
    {
        var sw = Stopwatch.StartNew();
        action();
        return bytes / 1e9 / sw.Elapsed.TotalSeconds;
    }

    static (double Best, string All) Summarise(List<double> rates) =>
        (rates.Max(), string.Join(" ", rates.Select(r => r.ToString("F1"))));
}
