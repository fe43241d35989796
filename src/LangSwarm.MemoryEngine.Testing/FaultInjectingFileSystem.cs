namespace LangSwarm.MemoryEngine.Testing;

/// <summary>
/// An in-memory device that behaves like a real disk under power loss, for crash-recovery tests and fuzzing.
/// Each file keeps what was fsynced apart from what was written since; directory changes (create, rename,
/// delete) become durable only with <see cref="SyncDirectory"/>. <see cref="Crash"/> then builds the disk a
/// reboot would find: unsynced writes lost, kept in part, torn inside a write, or (optionally) reordered,
/// and unsynced directory changes kept or rolled back. Faults: a crash after N operations (every later call
/// throws, as the process is gone), fsync failures, and a full disk.
/// </summary>
public sealed class FaultInjectingFileSystem : IFileSystem
{
    private readonly object _gate = new();
    private readonly Dictionary<string, FaultFileNode> _live = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FaultFileNode> _durable = new(StringComparer.Ordinal);
    private readonly HashSet<string> _dirs = new(StringComparer.Ordinal) { string.Empty };
    private readonly HashSet<string> _locks = new(StringComparer.Ordinal);
    private long _operations;

    /// <summary>After this many mutating operations the "process dies": the call throws and so does every later one.</summary>
    public long? CrashAfterOperations { get; set; }

    /// <summary>The next <c>n</c> fsyncs fail with an I/O error (nothing they covered becomes durable).</summary>
    public int FailNextFsyncs { get; set; }

    /// <summary>Most bytes all files may hold together; writes past it fail with ENOSPC.</summary>
    public long CapacityBytes { get; set; } = long.MaxValue;

    /// <summary>When set, a crash may keep a random subset of unsynced writes rather than a prefix (reordering).</summary>
    public bool AllowReordering { get; set; }

    /// <summary>True once the simulated process has died; only <see cref="Crash"/> revives the device.</summary>
    public bool IsDead { get; private set; }

    /// <summary>Mutating operations so far (to choose crash points).</summary>
    public long Operations => Interlocked.Read(ref _operations);

    /// <summary>
    /// Power loss and reboot: builds the durable image a restart would see, releases locks, and clears the
    /// dead state. Deterministic for a given <paramref name="random"/>.
    /// </summary>
    public void Crash(Random random)
    {
        lock (_gate)
        {
            // Directory entries: unsynced creations/renames/deletions either all reached the disk or none did.
            var keepNamespace = random.Next(2) == 0;
            Reboot(new Dictionary<string, FaultFileNode>(keepNamespace ? _live : _durable), node => node.ImageAfterCrash(random, AllowReordering));
        }
    }

    /// <summary>
    /// The process died (SIGKILL) but the machine did not: every write that reached the file system survives,
    /// synced or not, and so does every directory change; only what the process still buffered is lost.
    /// Releases locks and clears the dead state, like <see cref="Crash"/>.
    /// </summary>
    public void ProcessDied()
    {
        lock (_gate)
        {
            Reboot(new Dictionary<string, FaultFileNode>(_live), node => node.CurrentImage());
        }
    }

    /// <summary>The restart after a crash: <paramref name="names"/> with each file's image become the durable state (caller holds the gate).</summary>
    private void Reboot(Dictionary<string, FaultFileNode> names, Func<FaultFileNode, byte[]> imageOf)
    {
        var survivors = new Dictionary<FaultFileNode, byte[]>();
        foreach (var node in names.Values.Distinct())
        {
            survivors[node] = imageOf(node);
        }
        _live.Clear();
        _durable.Clear();
        foreach (var (path, node) in names)
        {
            node.Reset(survivors[node]);
            _live[path] = node;
            _durable[path] = node;
        }
        _locks.Clear();
        IsDead = false;
        CrashAfterOperations = null;
        FailNextFsyncs = 0;
    }

    /// <summary>Cuts the simulated process off now: every later call throws until <see cref="Crash"/>.</summary>
    public void Kill()
    {
        lock (_gate)
        {
            IsDead = true;
        }
    }

    /// <summary>Bytes held by all files now.</summary>
    public long UsedBytes
    {
        get
        {
            lock (_gate)
            {
                return _live.Values.Distinct().Sum(n => (long)n.Length);
            }
        }
    }

    /// <inheritdoc />
    public void CreateDirectory(string path)
    {
        lock (_gate)
        {
            Tick();
            _dirs.Add(Normalize(path));
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<FileEntry> ListFiles(string directory)
    {
        lock (_gate)
        {
            CheckAlive();
            var dir = Normalize(directory);
            var list = new List<FileEntry>();
            foreach (var (path, node) in _live)
            {
                if (DirOf(path) == dir)
                {
                    list.Add(new FileEntry(path[(dir.Length == 0 ? 0 : dir.Length + 1)..], node.Length));
                }
            }
            list.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
            return list;
        }
    }

    /// <inheritdoc />
    public bool SyncAll()
    {
        lock (_gate)
        {
            Tick();
            if (FailNextFsyncs > 0)
            {
                FailNextFsyncs--;
                throw new IOException("syncfs failed (simulated EIO).", 5);
            }
            foreach (var node in _live.Values.Distinct())
            {
                node.Flush();
            }
            _durable.Clear();
            foreach (var (p, n) in _live)
            {
                _durable[p] = n;
            }
            return true;
        }
    }

    /// <inheritdoc />
    public bool FileExists(string path)
    {
        lock (_gate)
        {
            CheckAlive();
            return _live.ContainsKey(Normalize(path));
        }
    }

    /// <inheritdoc />
    public long? FileLength(string path)
    {
        lock (_gate)
        {
            CheckAlive();
            return _live.TryGetValue(Normalize(path), out var node) ? node.Length : null;
        }
    }

    /// <inheritdoc />
    public IStorageFile Open(string path, bool create)
    {
        lock (_gate)
        {
            var p = Normalize(path);
            if (_live.TryGetValue(p, out var node))
            {
                CheckAlive();
                return new Handle(this, node);
            }
            if (!create)
            {
                CheckAlive();
                throw new FileNotFoundException($"No file '{path}'.", path);
            }
            Tick();
            node = new FaultFileNode();
            _live[p] = node;
            return new Handle(this, node);
        }
    }

    /// <inheritdoc />
    public void Delete(string path)
    {
        lock (_gate)
        {
            Tick();
            _live.Remove(Normalize(path));
        }
    }

    /// <inheritdoc />
    public void Rename(string from, string to)
    {
        lock (_gate)
        {
            Tick();
            var f = Normalize(from);
            if (!_live.Remove(f, out var node))
            {
                throw new FileNotFoundException($"No file '{from}'.", from);
            }
            _live[Normalize(to)] = node;
        }
    }

    /// <inheritdoc />
    public void SyncDirectory(string path)
    {
        lock (_gate)
        {
            Tick();
            var dir = Normalize(path);
            foreach (var p in _durable.Keys.Where(p => DirOf(p) == dir).ToList())
            {
                _durable.Remove(p);
            }
            foreach (var (p, n) in _live)
            {
                if (DirOf(p) == dir)
                {
                    _durable[p] = n;
                }
            }
        }
    }

    /// <inheritdoc />
    public IDisposable LockExclusive(string path)
    {
        lock (_gate)
        {
            CheckAlive();
            var p = Normalize(path);
            if (!_locks.Add(p))
            {
                throw new StoreLockedException($"The store is in use by another opener (lock '{path}').");
            }
            return new Releaser(this, p);
        }
    }

    private void Tick()
    {
        CheckAlive();
        var n = Interlocked.Increment(ref _operations);
        if (CrashAfterOperations is { } limit && n >= limit)
        {
            IsDead = true;
            throw new SimulatedCrashException($"Simulated crash at operation {n}.");
        }
    }

    private void CheckAlive()
    {
        if (IsDead)
        {
            throw new SimulatedCrashException("The simulated process has crashed.");
        }
    }

    private static string Normalize(string path) => path.Replace('\\', '/').Trim('/');

    private static string DirOf(string path)
    {
        var i = path.LastIndexOf('/');
        return i < 0 ? string.Empty : path[..i];
    }

    private sealed class Releaser(FaultInjectingFileSystem fs, string path) : IDisposable
    {
        public void Dispose()
        {
            lock (fs._gate)
            {
                fs._locks.Remove(path);
            }
        }
    }

    private sealed class Handle(FaultInjectingFileSystem fs, FaultFileNode node) : IStorageFile
    {
        public long Length
        {
            get
            {
                lock (fs._gate)
                {
                    fs.CheckAlive();
                    return node.Length;
                }
            }
        }

        public int Read(long offset, Span<byte> buffer)
        {
            lock (fs._gate)
            {
                fs.CheckAlive();
                return node.Read(offset, buffer);
            }
        }

        public void Write(long offset, ReadOnlySpan<byte> data)
        {
            lock (fs._gate)
            {
                fs.Tick();
                var growth = Math.Max(0, offset + data.Length - node.Length);
                if (growth > 0 && fs.UsedBytesUnlocked() + growth > fs.CapacityBytes)
                {
                    throw new IOException("No space left on device (simulated ENOSPC).", 28);
                }
                node.Write(offset, data);
            }
        }

        public void SetLength(long length)
        {
            lock (fs._gate)
            {
                fs.Tick();
                node.SetLength(length);
            }
        }

        public void Flush()
        {
            lock (fs._gate)
            {
                fs.Tick();
                if (fs.FailNextFsyncs > 0)
                {
                    fs.FailNextFsyncs--;
                    throw new IOException("fsync failed (simulated EIO).", 5);
                }
                node.Flush();
            }
        }

        public void Dispose()
        {
        }
    }

    private long UsedBytesUnlocked() => _live.Values.Distinct().Sum(n => (long)n.Length);
}

/// <summary>Thrown by <see cref="FaultInjectingFileSystem"/> when the simulated process dies.</summary>
public sealed class SimulatedCrashException(string message) : IOException(message);
