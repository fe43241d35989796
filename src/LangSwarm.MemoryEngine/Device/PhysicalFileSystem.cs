using System.IO.Enumeration;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace LangSwarm.MemoryEngine.Device;

/// <summary>The real file system under a root directory: positional I/O on <see cref="SafeFileHandle"/>s, file syncs through <see cref="PhysicalFile.Flush"/>.</summary>
internal sealed class PhysicalFileSystem : IFileSystem
{
    private readonly string _root;

    /// <summary>Serves files under <paramref name="root"/>.</summary>
    public PhysicalFileSystem(string root)
    {
        _root = Path.GetFullPath(root);
    }

    /// <summary>The root directory.</summary>
    public string Root => _root;

    /// <inheritdoc />
    public void CreateDirectory(string path) => Directory.CreateDirectory(Full(path));

    /// <inheritdoc />
    public IReadOnlyList<FileEntry> ListFiles(string directory)
    {
        var dir = Full(directory);
        if (!Directory.Exists(dir))
        {
            return [];
        }
        // One directory walk gives names and sizes: no file is opened to learn its length.
        var files = new List<FileEntry>(new FileSystemEnumerable<FileEntry>(dir, (ref FileSystemEntry e) => new FileEntry(e.FileName.ToString(), e.Length))
        {
            ShouldIncludePredicate = (ref FileSystemEntry e) => !e.IsDirectory,
        });
        files.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return files;
    }

    /// <inheritdoc />
    public bool SyncAll()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }
        var fd = Posix.OpenDir(_root, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            throw new IOException($"Cannot open the store directory to sync it (errno {Marshal.GetLastPInvokeError()}).");
        }
        try
        {
            if (Posix.SyncFs(fd) != 0)
            {
                throw new IOException($"syncfs of the store failed (errno {Marshal.GetLastPInvokeError()}).");
            }
            return true;
        }
        finally
        {
            _ = Posix.Close(fd);
        }
    }

    /// <inheritdoc />
    public bool FileExists(string path) => File.Exists(Full(path));

    /// <inheritdoc />
    public long? FileLength(string path)
    {
        var info = new FileInfo(Full(path));
        return info.Exists ? info.Length : null;
    }

    /// <inheritdoc />
    public IStorageFile Open(string path, bool create) =>
        new PhysicalFile(File.OpenHandle(Full(path), create ? FileMode.OpenOrCreate : FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete));

    /// <inheritdoc />
    public void Delete(string path) => File.Delete(Full(path));

    /// <inheritdoc />
    public void Rename(string from, string to) => File.Move(Full(from), Full(to), overwrite: true);

    /// <inheritdoc />
    public void SyncDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return; // NTFS journals metadata; directories cannot be flushed there.
        }
        var fd = Posix.OpenDir(Full(path), 0 /* O_RDONLY */);
        if (fd < 0)
        {
            throw new IOException($"Cannot open directory '{path}' to sync it (errno {Marshal.GetLastPInvokeError()}).");
        }
        try
        {
            if (Posix.Fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory '{path}' failed (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Posix.Close(fd);
        }
    }

    /// <inheritdoc />
    public IDisposable LockExclusive(string path)
    {
        try
        {
            // FileShare.None takes an advisory flock on Unix: a second opener, in any process, is refused.
            return new FileStream(Full(path), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new StoreLockedException($"The store at '{_root}' is in use by another process (lock file '{path}').", ex);
        }
    }

    private string Full(string relative) => Path.Combine(_root, relative);
}
