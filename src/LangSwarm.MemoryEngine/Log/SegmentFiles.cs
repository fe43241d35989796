using System.Globalization;
using LangSwarm.MemoryEngine.Format;

namespace LangSwarm.MemoryEngine.Log;

/// <summary>
/// Per-session segment files (<c>seg/{session:x16}-{segment:x8}.seg</c>) behind a bounded cache of open handles,
/// so a store of 100,000 sessions does not hold 100,000 descriptors. Names come from internal numbers only.
/// <para>
/// Appends are buffered per open segment (up to <see cref="SegmentSlot.BufferBytes"/>) and written with one
/// <c>pwrite</c> when the buffer fills, before any read, length, fsync, truncate or close of that segment, and
/// when the handle leaves the cache. Every record reaches its segment only after the commit log has taken it
/// (FORMAT.md §5.1), and segments were never made durable before a checkpoint: a record still in the buffer
/// at a crash is exactly a record whose segment write the crash cut off, which recovery replays from the log.
/// The buffer only keeps the per-add segment write from costing a system call of its own. Buffered bytes
/// always continue the bytes on disk, so a segment on disk is always a prefix of what was appended.
/// </para>
/// </summary>
internal sealed class SegmentFiles : IDisposable
{
    /// <summary>Directory of the segments.</summary>
    public const string Directory = "seg";

    private readonly IFileSystem _fs;
    private readonly int _capacity;
    private readonly object _lock = new();
    private readonly Dictionary<(ulong, uint), SegmentSlot> _open = [];
    private readonly LinkedList<(ulong, uint)> _lru = new();
    private readonly HashSet<(ulong, uint)> _dirty = [];

    private readonly int _syncAllAbove;
    private readonly uint _keyId;

    /// <remarks><paramref name="keyId"/> goes in each new segment's header: the key the store seals with (0: none).</remarks>
    public SegmentFiles(IFileSystem fs, int capacity = 256, int syncAllAbove = 32, uint keyId = 0)
    {
        _fs = fs;
        _keyId = keyId;
        _capacity = capacity;
        _syncAllAbove = syncAllAbove;
        Deferred = new DeferredTails(fs, this);
    }

    /// <summary>Appends an unclean open placed but left for later; settled per session before any operation on its segments.</summary>
    public DeferredTails Deferred { get; }

    public static string NameFor(ulong session, uint segment) => $"{session:x16}-{segment:x8}.seg";

    public static string PathFor(ulong session, uint segment) => $"{Directory}/{NameFor(session, segment)}";

    /// <summary>Parses a segment file name; false for anything else.</summary>
    public static bool TryParseName(string name, out ulong session, out uint segment)
    {
        session = 0;
        segment = 0;
        return name.Length == 16 + 1 + 8 + 4 && name.EndsWith(".seg", StringComparison.Ordinal) && name[16] == '-'
            && ulong.TryParse(name.AsSpan(0, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out session)
            && uint.TryParse(name.AsSpan(17, 8), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out segment);
    }

    /// <summary>Creates a segment with its header (durable at the next checkpoint, with its directory).</summary>
    public void Create(ulong session, uint segment)
    {
        var header = new byte[FileHeader.Size];
        new FileHeader(FileKind.Segment, FileHeader.VersionFor(_keyId), session, segment, _keyId).WriteTo(header);
        Use(session, segment, create: true, f =>
        {
            f.SetLength(0);
            f.Write(0, header);
        });
        lock (_lock)
        {
            MarkDirty((session, segment), _open.GetValueOrDefault((session, segment)));
        }
    }

    /// <summary>Appends or writes <paramref name="data"/> at <paramref name="offset"/> (buffered; see the class summary).</summary>
    public void Write(ulong session, uint segment, long offset, ReadOnlySpan<byte> data)
    {
        var slot = Acquire(session, segment, create: false);
        try
        {
            lock (slot)
            {
                slot.Write(offset, data);
            }
        }
        finally
        {
            Release(slot, (session, segment));
        }
    }

    /// <summary>Opens the segment when no handle is cached; throws <see cref="FileNotFoundException"/> when it is gone.</summary>
    public void EnsureOpen(ulong session, uint segment)
    {
        Settle(session);
        lock (_lock)
        {
            if (_open.ContainsKey((session, segment)))
            {
                // Every add checks this first: a cached handle answers it under one lock.
                return;
            }
        }
        Release(Acquire(session, segment, create: false));
    }

    public int Read(ulong session, uint segment, long offset, Span<byte> buffer)
    {
        var slot = Acquire(session, segment, create: false);
        try
        {
            lock (slot)
            {
                slot.WritePending();
            }
            return slot.File.Read(offset, buffer);
        }
        finally
        {
            Release(slot);
        }
    }

    public long Length(ulong session, uint segment)
    {
        var slot = Acquire(session, segment, create: false);
        try
        {
            lock (slot)
            {
                slot.WritePending();
            }
            return slot.File.Length;
        }
        finally
        {
            Release(slot);
        }
    }

    /// <summary>fsyncs one segment now.</summary>
    public void Flush(ulong session, uint segment) => Use(session, segment, create: false, f => f.Flush());

    /// <summary>Makes segment creations and deletions durable.</summary>
    public void SyncDirectory() => _fs.SyncDirectory(Directory);

    public void Truncate(ulong session, uint segment, long length) => Use(session, segment, create: false, f => f.SetLength(length));

    /// <summary>fsyncs every segment written since the last call, then the segment directory.</summary>
    public void SyncDirty()
    {
        List<(ulong, uint)> dirty;
        lock (_lock)
        {
            dirty = [.. _dirty];
            _dirty.Clear();
            foreach (var key in dirty)
            {
                if (_open.TryGetValue(key, out var slot))
                {
                    slot.Dirty = false;
                }
            }
        }
        try
        {
            // Buffered appends go to the files first: what is synced here is what the checkpoint will cite.
            WriteAllPending();
            // Past a handful of files one syncfs beats an fsync each (a recovery may touch thousands).
            if (dirty.Count > _syncAllAbove && _fs.SyncAll())
            {
                return;
            }
            foreach (var (s, g) in dirty)
            {
                try
                {
                    Use(s, g, create: false, f => f.Flush());
                }
                catch (FileNotFoundException)
                {
                    // Deleted meanwhile (a session delete runs beside a checkpoint's sync): nothing to sync.
                }
            }
            _fs.SyncDirectory(Directory);
        }
        catch
        {
            lock (_lock)
            {
                foreach (var key in dirty)
                {
                    MarkDirty(key, _open.GetValueOrDefault(key));
                }
            }
            throw;
        }
    }

    /// <summary>Deletes a segment file (closing its handle).</summary>
    public void Delete(ulong session, uint segment)
    {
        Settle(session);
        lock (_lock)
        {
            if (_open.Remove((session, segment), out var slot))
            {
                _lru.Remove(slot.Node);
                slot.Closed = true;
                lock (slot)
                {
                    // The file goes away: its buffered bytes with it.
                    slot.DropPending();
                }
                if (slot.Users == 0)
                {
                    slot.File.Dispose();
                }
            }
            _dirty.Remove((session, segment));
        }
        _fs.Delete(PathFor(session, segment));
    }

    public void Dispose()
    {
        Deferred.Dispose();
        lock (_lock)
        {
            foreach (var slot in _open.Values)
            {
                Close(slot);
            }
            _open.Clear();
            _lru.Clear();
        }
    }

    private void Use(ulong session, uint segment, bool create, Action<IStorageFile> action)
    {
        var slot = Acquire(session, segment, create);
        try
        {
            lock (slot)
            {
                // fsync, truncate and create act on the file as appended so far.
                slot.WritePending();
                action(slot.File);
            }
        }
        finally
        {
            Release(slot);
        }
    }

    private SegmentSlot Acquire(ulong session, uint segment, bool create)
    {
        Settle(session);
        lock (_lock)
        {
            if (_open.TryGetValue((session, segment), out var slot))
            {
                // An add touches its segment several times in a row: it is most often first already.
                if (_lru.First != slot.Node)
                {
                    _lru.Remove(slot.Node);
                    _lru.AddFirst(slot.Node);
                }
                slot.Users++;
                return slot;
            }
            var file = _fs.Open(PathFor(session, segment), create);
            slot = new SegmentSlot(file, new LinkedListNode<(ulong, uint)>((session, segment))) { Users = 1 };
            _open[(session, segment)] = slot;
            _lru.AddFirst(slot.Node);
            while (_open.Count > _capacity && _lru.Last is { } last && last != slot.Node)
            {
                var victim = _open[last.Value];
                _lru.RemoveLast();
                _open.Remove(last.Value);
                victim.Closed = true;
                // Its last user's release must put the key back in the set itself: no open slot answers for it now.
                victim.Dirty = false;
                if (victim.Users == 0)
                {
                    Close(victim);
                }
                else
                {
                    // Still in use (closed at its Release): its buffered appends go to disk now, since a new
                    // handle on the same file may be opened and read before then.
                    lock (victim)
                    {
                        victim.WritePending();
                    }
                }
            }
            return slot;
        }
    }

    private void Release(SegmentSlot slot, (ulong, uint)? dirty = null)
    {
        lock (_lock)
        {
            if (dirty is { } d && !slot.Dirty)
            {
                MarkDirty(d, slot.Closed ? null : slot);
            }
            slot.Users--;
            if (slot.Closed && slot.Users == 0)
            {
                Close(slot);
            }
        }
    }

    private void Settle(ulong session)
    {
        if (Deferred.Any)
        {
            Deferred.Settle(session);
        }
    }

    /// <summary>Puts a segment in the set to fsync; <paramref name="slot"/> is its open slot, if any. The caller holds the lock.</summary>
    private void MarkDirty((ulong, uint) key, SegmentSlot? slot)
    {
        _dirty.Add(key);
        if (slot is not null)
        {
            slot.Dirty = true;
        }
    }

    /// <summary>Writes every open segment's buffered bytes.</summary>
    public void WriteAllPending()
    {
        List<SegmentSlot> slots;
        lock (_lock)
        {
            slots = [.. _open.Values];
        }
        foreach (var slot in slots)
        {
            lock (slot)
            {
                slot.WritePending();
            }
        }
    }

    /// <summary>Closes a slot's file after writing what it buffered (a handle leaving the cache, or Dispose).</summary>
    private static void Close(SegmentSlot slot)
    {
        try
        {
            lock (slot)
            {
                slot.WritePending();
            }
        }
        finally
        {
            slot.File.Dispose();
        }
    }
}
