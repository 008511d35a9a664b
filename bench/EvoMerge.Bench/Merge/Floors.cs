using System.Diagnostics;

namespace EvoMerge.Bench.Merge;

/// <summary>
/// What a file-to-file merge cannot beat, measured on the merge's own files in the same run: reading every input byte
/// through the page cache, writing the output's bytes and fsyncing them by a plain copy, and copying memory.
/// </summary>
static class Floors
{
    /// <summary>
    /// Seconds to read <paramref name="files"/> once from a warm page cache with pread into a per-thread 1 MiB buffer
    /// (as <c>cat</c> does, spread over <paramref name="threads"/> threads like the merge), best of three.
    /// </summary>
    public static double ReadSeconds(IReadOnlyList<string> files, int threads)
    {
        const int Piece = 8 << 20;
        var pieces = files.SelectMany(f => Enumerable.Range(0, (int)((new FileInfo(f).Length + Piece - 1) / Piece)).Select(i => (File: f, Offset: (long)i * Piece))).ToArray();
        BenchModels.Warm(files.Select(Path.GetDirectoryName).Distinct()!);
        double best = double.MaxValue;
        for (int run = 0; run < 3; run++)
        {
            var clock = Stopwatch.StartNew();
            Parallel.ForEach(pieces, new ParallelOptions { MaxDegreeOfParallelism = threads }, () => new byte[1 << 20], (piece, _, buffer) =>
            {
                using var handle = File.OpenHandle(piece.File);
                long end = Math.Min(piece.Offset + Piece, RandomAccess.GetLength(handle));
                for (long at = piece.Offset; at < end;)
                {
                    int n = RandomAccess.Read(handle, buffer.AsSpan(0, (int)Math.Min(buffer.Length, end - at)), at);
                    if (n == 0) break;
                    at += n;
                }
                return buffer;
            }, _ => { });
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
    }

    /// <summary>
    /// Seconds to write a copy of <paramref name="sourceFolder"/>'s weight files (the output's size) into
    /// <paramref name="scratchDir"/> and fsync them, one thread, 1 MiB at a time (<c>dd conv=fsync</c>); the copy is deleted.
    /// The source is read from a warm page cache, so this is the write path's cost.
    /// </summary>
    public static double WriteSeconds(string sourceFolder, string scratchDir)
    {
        string target = Path.Combine(scratchDir, "write-floor");
        Directory.CreateDirectory(target);
        var files = BenchModels.Files([sourceFolder]).ToList();
        BenchModels.Warm([sourceFolder]);
        var buffer = new byte[1 << 20];
        var clock = Stopwatch.StartNew();
        foreach (var file in files)
        {
            using var input = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            using var output = new FileStream(Path.Combine(target, Path.GetFileName(file)), FileMode.Create, FileAccess.Write, FileShare.None, 1);
            int n;
            while ((n = input.Read(buffer)) > 0) output.Write(buffer, 0, n);
            output.Flush(flushToDisk: true);
        }
        double seconds = clock.Elapsed.TotalSeconds;
        Directory.Delete(target, recursive: true);
        return seconds;
    }

    /// <summary>
    /// Memory traffic of a buffer copy in GB/s, counting bytes read + bytes written (as STREAM does, and as the floor
    /// counts the merge's bytes), split across <paramref name="threads"/> threads, best of three. Both buffers are
    /// written in full first: a fresh array's untouched pages all map the kernel's one zero page, so copying from
    /// them reads 4 KiB of cache over and over and reports several times the real bandwidth.
    /// </summary>
    public static double CopyBandwidth(int threads, int bytes = 1 << 30)
    {
        var source = GC.AllocateUninitializedArray<byte>(bytes);
        var destination = GC.AllocateUninitializedArray<byte>(bytes);
        source.AsSpan().Fill(0x5A);
        destination.AsSpan().Fill(1);
        double best = double.MaxValue;
        for (int run = 0; run < 3; run++)
        {
            var clock = Stopwatch.StartNew();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                long chunk = source.Length / threads;
                source.AsSpan((int)(t * chunk), (int)chunk).CopyTo(destination.AsSpan((int)(t * chunk)));
            });
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return 2.0 * bytes / 1e9 / best;
    }
}
