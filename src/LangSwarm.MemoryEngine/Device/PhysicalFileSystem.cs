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

    /// <summary>Mode of the directories the store creates on Unix: the owner's only (0700).</summary>
    public const UnixFileMode OwnerDirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Mode of the files the store creates on Unix: the owner's only (0600); conversations are private.</summary>
    public const UnixFileMode OwnerFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <inheritdoc />
    public void CreateDirectory(string path)
    {
        var full = Full(path);
        if (!OperatingSystem.IsWindows())
        {
            if (!Directory.Exists(full))
            {
                // Parents created on the way get the same mode (the umask can only narrow it).
                Directory.CreateDirectory(full, OwnerDirectoryMode);
            }
            return;
        }
        Directory.CreateDirectory(full);
    }

    /// <summary>
    /// The store's directories, index file and commit logs that users other than the owner can write (group or
    /// other write bit), relative to the root ("." for the root); empty on Windows, whose ACLs this does not read.
    /// Segments and packs are not listed one by one: their directories guard them.
    /// </summary>
    public List<string> WritableByOthers()
    {
        var found = new List<string>();
        if (OperatingSystem.IsWindows())
        {
            return found;
        }
        const UnixFileMode othersWrite = UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;
        void Check(string relative)
        {
            var full = relative == "." ? _root : Full(relative);
            if ((Directory.Exists(full) || File.Exists(full)) && (File.GetUnixFileMode(full) & othersWrite) != 0)
            {
                found.Add(relative);
            }
        }
        Check(".");
        foreach (var dir in new[] { "seg", "pack", "wal" })
        {
            Check(dir);
        }
        Check("index.btree");
        if (Directory.Exists(Full("wal")))
        {
            foreach (var log in Directory.EnumerateFiles(Full("wal")))
            {
                Check(Path.Combine("wal", Path.GetFileName(log)));
            }
        }
        return found;
    }

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
    public IStorageFile Open(string path, bool create)
    {
        var full = Full(path);
        var created = create && !OperatingSystem.IsWindows() && !File.Exists(full);
        var handle = File.OpenHandle(full, create ? FileMode.OpenOrCreate : FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
        if (created && !OperatingSystem.IsWindows())
        {
            // Before anything is written to it: the file holds conversations.
            File.SetUnixFileMode(handle, OwnerFileMode);
        }
        return new PhysicalFile(handle);
    }

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
            var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = OwnerFileMode;
            }
            return new FileStream(Full(path), options);
        }
        catch (IOException ex)
        {
            throw new StoreLockedException($"The store at '{_root}' is in use by another process (lock file '{path}').", ex);
        }
    }

    private string Full(string relative) => Path.Combine(_root, relative);
}
