using LangSwarm.MemoryEngine.Format;

namespace LangSwarm.MemoryEngine.Log;

/// <summary>
/// The commit log file being appended to: its handle, name and length, and the move to the next file at a
/// checkpoint. Not thread-safe: each log class calls it under its own lock (the group commit's flusher writes
/// without one, while no rotation can run).
/// </summary>
internal sealed class LogFile
{
    private readonly IFileSystem _fs;
    private IStorageFile _file;
    private string _name;
    private long _length;

    /// <summary>Creates the file starting at <paramref name="firstLsn"/>, holding only its header, durably.</summary>
    public LogFile(IFileSystem fs, ulong firstLsn)
    {
        _fs = fs;
        (_file, _name) = CommitLog.CreateFile(fs, firstLsn);
        _length = FileHeader.Size;
    }

    /// <summary>Bytes in the file (header and records).</summary>
    public long Length => Interlocked.Read(ref _length);

    /// <summary>The open file (an fsync may run on it outside the caller's lock).</summary>
    public IStorageFile File => _file;

    /// <summary>Writes <paramref name="records"/> at the end of the file.</summary>
    public void Append(ReadOnlySpan<byte> records)
    {
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
        var (file, name) = CommitLog.CreateFile(_fs, firstLsn);
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
        return old;
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
