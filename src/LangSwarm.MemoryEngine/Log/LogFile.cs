using System.Buffers;
using LangSwarm.MemoryEngine.Format;

namespace LangSwarm.MemoryEngine.Log;

/// <summary>
/// The commit log file being appended to: its handle, name and length, and the move to the next file at a
/// checkpoint. Not thread-safe: each log class calls it under its own lock (the group commit's flusher writes
/// without one, while no rotation can run).
/// </summary>
/// <remarks>
/// With a preallocation chunk, the file is extended ahead of its records with zero bytes, a chunk at a time
/// (FORMAT.md §5.2). A record written over bytes the file already holds changes no file length, so the fsync
/// that follows it has only data to write; one that extends the file must also journal the new length.
/// </remarks>
internal sealed class LogFile
{
    private static readonly byte[] Zeros = new byte[64 * 1024];

    private readonly IFileSystem _fs;
    private readonly int _preallocateChunk;
    private readonly uint _keyId;
    private IStorageFile _file;
    private string _name;
    private long _length;
    private long _filled;

    /// <summary>
    /// Creates the file starting at <paramref name="firstLsn"/>, holding only its header, durably. With
    /// <paramref name="preallocateChunk"/> above 0, appends extend the file with zeros in chunks of that size.
    /// </summary>
    public LogFile(IFileSystem fs, ulong firstLsn, uint keyId = 0, int preallocateChunk = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(preallocateChunk);
        _fs = fs;
        _keyId = keyId;
        _preallocateChunk = preallocateChunk;
        (_file, _name) = CommitLog.CreateFile(fs, firstLsn, keyId);
        _length = FileHeader.Size;
        _filled = FileHeader.Size;
    }

    /// <summary>Bytes in the file (header and records).</summary>
    public long Length => Interlocked.Read(ref _length);

    /// <summary>Bytes the file takes: its records and the zeros preallocated past them.</summary>
    public long FileBytes => Math.Max(Interlocked.Read(ref _filled), Length);

    /// <summary>The open file (an fsync may run on it outside the caller's lock).</summary>
    public IStorageFile File => _file;

    /// <summary>Writes <paramref name="records"/> at the end of the file.</summary>
    public void Append(ReadOnlySpan<byte> records)
    {
        if (_preallocateChunk > 0 && Length + records.Length > _filled)
        {
            Preallocate(Length + records.Length);
        }
        _file.Write(Length, records);
        Interlocked.Add(ref _length, records.Length);
    }

    /// <summary>
    /// Moves to a new file starting at <paramref name="firstLsn"/>: this one is fsynced and closed first. Returns
    /// the finished file's name, or null when this file already starts there (it then simply stays).
    /// </summary>
    public string? Rotate(ulong firstLsn)
    {
        if (CommitLog.FileNameFor(firstLsn) == _name)
        {
            return null;
        }
        var (file, name) = CommitLog.CreateFile(_fs, firstLsn, _keyId);
        try
        {
            _file.Flush();
        }
        catch
        {
            file.Dispose();
            throw;
        }
        _file.Dispose();
        var old = _name;
        _file = file;
        _name = name;
        Interlocked.Exchange(ref _length, FileHeader.Size);
        Interlocked.Exchange(ref _filled, FileHeader.Size);
        return old;
    }

    /// <summary>
    /// True when every byte of [<paramref name="from"/>, <paramref name="to"/>) of <paramref name="file"/> is
    /// zero: what follows a preallocated log's last record, which is neither a torn write nor damage.
    /// </summary>
    public static bool IsPadding(IStorageFile file, long from, long to)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Zeros.Length);
        try
        {
            while (from < to)
            {
                var n = file.Read(from, buffer.AsSpan(0, (int)Math.Min(buffer.Length, to - from)));
                if (n <= 0 || buffer.AsSpan(0, n).ContainsAnyExcept((byte)0))
                {
                    return false;
                }
                from += n;
            }
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Writes zeros from the end of what the file holds to the chunk boundary at or past <paramref name="end"/>.</summary>
    private void Preallocate(long end)
    {
        var chunk = _preallocateChunk;
        var target = (end + chunk - 1) / chunk * chunk;
        var at = Math.Max(_filled, Length);
        while (at < target)
        {
            var n = (int)Math.Min(Zeros.Length, target - at);
            _file.Write(at, Zeros.AsSpan(0, n));
            at += n;
        }
        Interlocked.Exchange(ref _filled, target);
    }

    /// <summary>Closes the file, fsyncing it first when <paramref name="sync"/> (a failed fsync is left to recovery).</summary>
    public void Close(bool sync)
    {
        if (sync)
        {
            try
            {
                _file.Flush();
            }
            catch (IOException)
            {
                // Nothing waits for this fsync any more; recovery will judge what reached the disk.
            }
        }
        _file.Dispose();
    }
}
