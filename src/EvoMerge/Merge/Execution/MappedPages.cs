using System.Runtime.InteropServices;

namespace EvoMerge.Merge.Execution;

/// <summary>
/// Lets go of memory-mapped input pages once a tensor has been read. Mapped file pages count towards the process's
/// resident set until the kernel reclaims them, so without this, merging reads the whole of every input "into" RSS;
/// with it, RSS stays at the executor's working buffers. The data stays in the page cache, so re-reading is cheap.
/// </summary>
static partial class MappedPages
{
    const int MadvDontNeed = 4;
    const long PageSize = 4096;

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = false)]
    private static partial int Madvise(nint address, nuint length, int advice);

    /// <summary>Drops this process's mapping of the whole pages inside <paramref name="bytes"/> (Linux only; elsewhere a no-op).</summary>
    public static unsafe void Release(ReadOnlySpan<byte> bytes)
    {
        if (!OperatingSystem.IsLinux() || bytes.Length < PageSize) return;
        fixed (byte* p = bytes)
        {
            long start = ((long)p + PageSize - 1) & ~(PageSize - 1), end = ((long)p + bytes.Length) & ~(PageSize - 1);
            if (end > start) Madvise((nint)start, (nuint)(end - start), MadvDontNeed);
        }
    }
}
