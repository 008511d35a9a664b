using System.Runtime.InteropServices;

namespace EvoMerge.IO;

/// <summary>
/// The few POSIX calls .NET does not expose with the semantics EvoMerge needs: an exclusive mkdir, a rename that
/// never replaces, the resolved real path, early writeback and read-ahead, and a file's type (to refuse FIFOs and devices before opening them).
/// On other systems the callers fall back to the managed equivalents (documented where used).
/// </summary>
internal static partial class FileSystemCalls
{
    const int AtCwd = -100;
    const uint NoReplaceFlag = 1;
    const uint StatxType = 1, StatxSize = 0x200;
    const ushort TypeMask = 0xF000, TypeRegular = 0x8000, TypeDirectory = 0x4000;

    public const int EEXIST = 17, ENOTEMPTY = 39, ENOSYS = 38, EINVAL = 22, ENOENT = 2, ENOTDIR = 20;

    public static bool IsLinux => OperatingSystem.IsLinux();

    [LibraryImport("libc", EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int RenameAt2(int oldDir, string oldPath, int newDir, string newPath, uint flags);

    [LibraryImport("libc", EntryPoint = "rename", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Rename(string oldPath, string newPath);

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(string oldPath, string newPath);

    [LibraryImport("libc", EntryPoint = "mkdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MakeDirectory(string path, uint mode);

    [LibraryImport("libc", EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr RealPath(string path, IntPtr resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void Free(IntPtr pointer);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int dir, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static partial int SyncFileRange(int fd, long offset, long count, uint flags);

    [LibraryImport("libc", EntryPoint = "posix_fadvise")]
    private static partial int PosixFadvise(int fd, long offset, long count, int advice);

    [LibraryImport("libc", EntryPoint = "strerror")]
    private static partial IntPtr StrError(int errno);

    /// <summary>The system's text for an errno value ("File exists").</summary>
    public static string Describe(int errno) => Marshal.PtrToStringUTF8(StrError(errno)) ?? $"errno {errno}";

    /// <summary>mkdir(2): 0, or the errno (EEXIST when anything is already there: the call never adopts an existing folder).</summary>
    public static int CreateDirectoryExclusively(string path) =>
        MakeDirectory(path, 0x1ED /* 0755, less the umask */) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>
    /// Renames <paramref name="from"/> to <paramref name="to"/> only if <paramref name="to"/> does not exist, atomically
    /// (renameat2 RENAME_NOREPLACE): 0, or the errno. Where the file system lacks the flag (ENOSYS, EINVAL), falls back
    /// to <paramref name="fallback"/>, which returns an errno too.
    /// </summary>
    public static int RenameNoReplace(string from, string to, Func<int> fallback)
    {
        if (RenameAt2(AtCwd, from, AtCwd, to, NoReplaceFlag) == 0) return 0;
        int errno = Marshal.GetLastPInvokeError();
        return errno is ENOSYS or EINVAL ? fallback() : errno;
    }

    /// <summary>rename(2), which for a folder replaces only an empty folder (else ENOTEMPTY/EEXIST): 0, or the errno.</summary>
    public static int RenameOntoEmpty(string from, string to) => Rename(from, to) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>link(2), which fails with EEXIST when <paramref name="to"/> exists: 0, or the errno.</summary>
    public static int HardLink(string from, string to) => Link(from, to) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>realpath(3) of an existing path: every symbolic link and "..", resolved; null when it fails.</summary>
    public static string? Resolve(string path)
    {
        IntPtr p = RealPath(path, IntPtr.Zero);
        if (p == IntPtr.Zero) return null;
        try { return Marshal.PtrToStringUTF8(p); }
        finally { Free(p); }
    }

    /// <summary>
    /// Starts writing a file's dirty pages to disk without waiting for them (sync_file_range SYNC_FILE_RANGE_WRITE over
    /// the whole file), so that the fsync before a rename waits only for what was written last. Best effort: where the
    /// call is missing or refused, the fsync does all of the writing as before.
    /// </summary>
    public static void StartWriteback(Microsoft.Win32.SafeHandles.SafeFileHandle file)
    {
        if (!IsLinux) return;
        bool added = false;
        try
        {
            file.DangerousAddRef(ref added);
            SyncFileRange((int)file.DangerousGetHandle(), 0, 0, 2 /* SYNC_FILE_RANGE_WRITE */);
        }
        finally
        {
            if (added) file.DangerousRelease();
        }
    }

    /// <summary>
    /// Asks the kernel to read a file's bytes [offset, offset + count) into the page cache in the background
    /// (posix_fadvise POSIX_FADV_WILLNEED), so that a streaming reader finds them there. Best effort, like
    /// <see cref="StartWriteback"/>.
    /// </summary>
    public static void ReadAhead(Microsoft.Win32.SafeHandles.SafeFileHandle file, long offset, long count)
    {
        if (!IsLinux || count <= 0) return;
        bool added = false;
        try
        {
            file.DangerousAddRef(ref added);
            PosixFadvise((int)file.DangerousGetHandle(), offset, count, 3 /* POSIX_FADV_WILLNEED */);
        }
        finally
        {
            if (added) file.DangerousRelease();
        }
    }

    /// <summary>What a path is after following symbolic links: a regular file, a folder, something else, or absent.</summary>
    public enum Kind { Missing, Regular, Directory, Other }

    /// <summary>statx(2) with symbolic links followed; (Missing, 0) when the path does not resolve.</summary>
    public static unsafe (Kind Kind, long Size) Stat(string path)
    {
        // struct statx is the same on every Linux architecture: stx_mode is a u16 at byte 28, stx_size a u64 at byte 40.
        byte* buffer = stackalloc byte[256];
        if (Statx(AtCwd, path, 0, StatxType | StatxSize, buffer) != 0) return (Kind.Missing, 0);
        ushort mode = *(ushort*)(buffer + 28);
        long size = *(long*)(buffer + 40);
        return ((mode & TypeMask) switch { TypeRegular => Kind.Regular, TypeDirectory => Kind.Directory, _ => Kind.Other }, size);
    }
}
