namespace LangSwarm.MemoryEngine.Device;

/// <summary>
/// A private, writable view of a store that another process may be writing: every path lives in a scratch
/// directory, except the files under <see cref="SharedDirectories"/>, which are read from the live store until the
/// engine writes or deletes one. A write first copies the file into the scratch directory (as much of it as the
/// view saw when it opened the file); a delete hides it. Nothing is ever written to the live store.
/// </summary>
/// <remarks>
/// Why it exists: a read-only open beside a live writer runs the ordinary recovery over a copy of the index file
/// and the commit logs (see <c>Engine.StoreSnapshot</c>); recovery cuts torn tails and appends replayed records
/// to segments, and those writes must land in the view, not in the writer's files. Segments are append-only
/// below their valid length, so reading them in place is safe; copying them all would make every read-only
/// open cost the whole store.
/// </remarks>
internal sealed class SnapshotFileSystem : IFileSystem
{
    private readonly string _live;
    private readonly PhysicalFileSystem _scratch;
    private readonly Dictionary<string, List<FileEntry>> _listing = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _seen = new(StringComparer.Ordinal);
    private readonly HashSet<string> _hidden = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>
    /// Reads <paramref name="sharedDirectories"/> from <paramref name="liveRoot"/> as they are listed now (their
    /// files and lengths: the writer's later files and appends stay out of the view, so that every scan of the
    /// view sees the same bytes); everything else is in <paramref name="scratchRoot"/>.
    /// </summary>
    public SnapshotFileSystem(string liveRoot, string scratchRoot, params string[] sharedDirectories)
    {
        _live = Path.GetFullPath(liveRoot);
        _scratch = new PhysicalFileSystem(scratchRoot);
        SharedDirectories = sharedDirectories;
        foreach (var directory in sharedDirectories)
        {
            var listing = new PhysicalFileSystem(_live).ListFiles(directory);
            _listing[directory] = [.. listing];
            foreach (var e in listing)
            {
                _seen[$"{directory}/{e.Name}"] = e.Length;
            }
        }
    }

    /// <summary>The directories (relative to the store root) read from the live store.</summary>
    public IReadOnlyList<string> SharedDirectories { get; }

    /// <inheritdoc />
    public void CreateDirectory(string path) => _scratch.CreateDirectory(path);

    /// <inheritdoc />
    public IReadOnlyList<FileEntry> ListFiles(string directory)
    {
        var own = _scratch.ListFiles(directory);
        if (!_listing.TryGetValue(directory, out var listing))
        {
            return own;
        }
        var merged = new Dictionary<string, FileEntry>(StringComparer.Ordinal);
        lock (_lock)
        {
            foreach (var e in listing)
            {
                if (!_hidden.Contains(Relative(directory, e.Name)))
                {
                    merged[e.Name] = e;
                }
            }
        }
        foreach (var e in own)
        {
            merged[e.Name] = e;
        }
        var list = merged.Values.ToList();
        list.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return list;
    }

    /// <inheritdoc />
    public bool SyncAll() => _scratch.SyncAll();

    /// <inheritdoc />
    public bool FileExists(string path) => _scratch.FileExists(path) || IsLive(path);

    /// <inheritdoc />
    public IStorageFile Open(string path, bool create)
    {
        if (_scratch.FileExists(path) || !Shared(path))
        {
            return _scratch.Open(path, create);
        }
        lock (_lock)
        {
            if (_hidden.Contains(path))
            {
                if (!create)
                {
                    throw new FileNotFoundException("The file was deleted in this view.", path);
                }
                _hidden.Remove(path);
            }
            else if (_seen.TryGetValue(path, out var length))
            {
                return new CopyOnWriteFile(OpenRead(LivePath(path)), length, _scratch, path);
            }
        }
        return _scratch.Open(path, create);
    }

    /// <inheritdoc />
    public void Delete(string path)
    {
        _scratch.Delete(path);
        if (Shared(path))
        {
            lock (_lock)
            {
                _hidden.Add(path);
            }
        }
    }

    /// <inheritdoc />
    public void Rename(string from, string to)
    {
        if (!_scratch.FileExists(from) && IsLive(from))
        {
            using var copy = Open(from, create: false);
            ((CopyOnWriteFile)copy).CopyUp();
        }
        _scratch.Rename(from, to);
        Delete(from);
        lock (_lock)
        {
            _hidden.Remove(to);
        }
    }

    /// <inheritdoc />
    public void SyncDirectory(string path) => _scratch.SyncDirectory(path);

    /// <inheritdoc />
    public IDisposable LockExclusive(string path) => _scratch.LockExclusive(path);

    /// <summary>Opens a live file for reading only; the writer may append to it, rename it or delete it meanwhile.</summary>
    public static IStorageFile OpenRead(string fullPath) =>
        new PhysicalFile(File.OpenHandle(fullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));

    private bool IsLive(string path)
    {
        if (!Shared(path))
        {
            return false;
        }
        lock (_lock)
        {
            return !_hidden.Contains(path) && _seen.ContainsKey(path);
        }
    }

    private bool Shared(string path)
    {
        foreach (var d in SharedDirectories)
        {
            if (path.Length > d.Length + 1 && path.StartsWith(d, StringComparison.Ordinal) && path[d.Length] == '/')
            {
                return true;
            }
        }
        return false;
    }

    private string LivePath(string path) => Path.Combine(_live, path);

    private static string Relative(string directory, string name) => $"{directory}/{name}";

    /// <summary>
    /// A live file seen at the length the view listed, until the first write or truncation copies that much of it
    /// into the scratch directory, where every later call goes.
    /// </summary>
    private sealed class CopyOnWriteFile(IStorageFile live, long seen, PhysicalFileSystem scratch, string path) : IStorageFile
    {
        private readonly long _seen = seen;
        private IStorageFile? _own;

        public long Length => _own?.Length ?? Math.Min(_seen, live.Length);

        public int Read(long offset, Span<byte> buffer)
        {
            if (_own is { } own)
            {
                return own.Read(offset, buffer);
            }
            if (offset >= _seen)
            {
                return 0;
            }
            var n = (int)Math.Min(buffer.Length, _seen - offset);
            return live.Read(offset, buffer[..n]);
        }

        public void Write(long offset, ReadOnlySpan<byte> data) => CopyUp().Write(offset, data);

        public void SetLength(long length) => CopyUp().SetLength(length);

        public void Flush() => _own?.Flush();

        /// <summary>Copies what this view saw of the live file into the scratch directory (once).</summary>
        public IStorageFile CopyUp()
        {
            if (_own is not null)
            {
                return _own;
            }
            var own = scratch.Open(path, create: true);
            try
            {
                own.SetLength(0);
                var buffer = new byte[Math.Min(_seen, 1 << 20)];
                for (long at = 0; at < _seen;)
                {
                    var n = live.Read(at, buffer.AsSpan(0, (int)Math.Min(buffer.Length, _seen - at)));
                    if (n == 0)
                    {
                        break; // the writer cut it meanwhile: the view keeps what it could read
                    }
                    own.Write(at, buffer.AsSpan(0, n));
                    at += n;
                }
            }
            catch
            {
                own.Dispose();
                throw;
            }
            _own = own;
            live.Dispose();
            return own;
        }

        public void Dispose()
        {
            if (_own is { } own)
            {
                own.Dispose();
            }
            else
            {
                live.Dispose();
            }
        }
    }
}
