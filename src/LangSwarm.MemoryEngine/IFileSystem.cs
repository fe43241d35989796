namespace LangSwarm.MemoryEngine;

/// <summary>
/// The engine's whole view of the file system: a handful of calls, so that tests can swap in a device that
/// loses unsynced writes, tears them, fills up or fails fsync (see <c>LangSwarm.MemoryEngine.Testing.FaultInjectingFileSystem</c>).
/// Paths are relative to the store root and always made by the engine, never from caller input.
/// </summary>
public interface IFileSystem
{
    /// <summary>Creates a directory (and parents) if missing.</summary>
    void CreateDirectory(string path);

    /// <summary>Files directly in <paramref name="directory"/>, by name (not path), with their lengths, sorted by name.</summary>
    IReadOnlyList<FileEntry> ListFiles(string directory);

    /// <summary>
    /// Makes every file and directory of the store durable at once (Linux <c>syncfs</c>); false when the
    /// platform has no such call and the caller must fsync file by file.
    /// </summary>
    bool SyncAll();

    /// <summary>True when the file exists.</summary>
    bool FileExists(string path);

    /// <summary>
    /// The file's length, or null when it does not exist: one metadata lookup where the platform has one (an
    /// unclean open checks a file per session its logs name with it, without opening any).
    /// </summary>
    long? FileLength(string path)
    {
        if (!FileExists(path))
        {
            return null;
        }
        using var file = Open(path, create: false);
        return file.Length;
    }

    /// <summary>Opens a file for reading and writing; creates it when <paramref name="create"/> is set.</summary>
    IStorageFile Open(string path, bool create);

    /// <summary>Deletes a file if it exists.</summary>
    void Delete(string path);

    /// <summary>Renames a file, replacing the target atomically.</summary>
    void Rename(string from, string to);

    /// <summary>Makes creations, renames and deletions in a directory durable (fsync of the directory).</summary>
    void SyncDirectory(string path);

    /// <summary>Takes the store's exclusive lock; fails when another process (or opener) holds it.</summary>
    IDisposable LockExclusive(string path);
}

/// <summary>A file found in a directory listing.</summary>
/// <param name="Name">File name.</param>
/// <param name="Length">Length in bytes.</param>
public readonly record struct FileEntry(string Name, long Length);

/// <summary>An open file: positional reads and writes, length, truncation and fsync.</summary>
public interface IStorageFile : IDisposable
{
    /// <summary>Current length in bytes.</summary>
    long Length { get; }

    /// <summary>Reads up to <paramref name="buffer"/>.Length bytes at <paramref name="offset"/>; returns bytes read.</summary>
    int Read(long offset, Span<byte> buffer);

    /// <summary>Writes all of <paramref name="data"/> at <paramref name="offset"/>.</summary>
    void Write(long offset, ReadOnlySpan<byte> data);

    /// <summary>Cuts or extends the file to <paramref name="length"/>.</summary>
    void SetLength(long length);

    /// <summary>Makes every write so far durable (fsync). Throws when the device reports failure.</summary>
    void Flush();
}
