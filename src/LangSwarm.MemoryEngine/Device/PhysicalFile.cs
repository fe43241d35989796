using Microsoft.Win32.SafeHandles;

namespace LangSwarm.MemoryEngine.Device;

/// <summary>
/// A real file: positional I/O on a <see cref="SafeFileHandle"/>. A flush is <c>fdatasync</c> on Linux (data
/// and length durable, FORMAT.md §1 "fsync"), FlushToDisk elsewhere.
/// </summary>
internal sealed class PhysicalFile(SafeFileHandle handle) : IStorageFile
{
    public long Length => RandomAccess.GetLength(handle);

    public int Read(long offset, Span<byte> buffer)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = RandomAccess.Read(handle, buffer[total..], offset + total);
            if (n == 0)
            {
                break;
            }
            total += n;
        }
        return total;
    }

    public void Write(long offset, ReadOnlySpan<byte> data) => RandomAccess.Write(handle, data, offset);

    public void SetLength(long length) => RandomAccess.SetLength(handle, length);

    public void Flush()
    {
        if (OperatingSystem.IsLinux())
        {
            Posix.DataSync(handle);
            return;
        }
        RandomAccess.FlushToDisk(handle);
    }

    public void Dispose() => handle.Dispose();
}
