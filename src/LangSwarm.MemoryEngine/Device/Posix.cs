using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace LangSwarm.MemoryEngine.Device;

/// <summary>The few POSIX calls the BCL does not offer: directory and file-system syncs, and fdatasync.</summary>
internal static partial class Posix
{
    private const int EINTR = 4;

    /// <summary>
    /// Makes the file's data durable, and the metadata needed to read it back (its length), without the
    /// timestamps an <c>fsync</c> also writes: on an appended log that second journal write is most of the
    /// cost. Linux only; the caller falls back to <see cref="RandomAccess.FlushToDisk"/> elsewhere.
    /// </summary>
    /// <exception cref="IOException">The call failed; its <see cref="Exception.HResult"/> is the errno.</exception>
    public static void DataSync(SafeFileHandle handle)
    {
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            var fd = (int)handle.DangerousGetHandle();
            while (FdataSync(fd) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno != EINTR)
                {
                    throw new IOException($"fdatasync failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).", errno);
                }
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int OpenDir(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    internal static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static partial int FdataSync(int fd);

    [LibraryImport("libc", EntryPoint = "syncfs", SetLastError = true)]
    internal static partial int SyncFs(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);
}
