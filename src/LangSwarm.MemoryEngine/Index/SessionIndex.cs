using LangSwarm.Memory;

namespace LangSwarm.MemoryEngine.Index;

/// <summary>
/// The store-wide index: sessions by id and number, and ordered sets by activity (for listing and cleanup),
/// by user and by status. Guarded by one lock; per-session contents are guarded by each entry's lock.
/// </summary>
internal sealed class SessionIndex
{
    private readonly object _lock = new();
    private readonly Dictionary<string, SessionEntry> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<ulong, SessionEntry> _byNumber = [];
    private SortedSet<SessionKey> _byTime = [];
    private readonly Dictionary<string, SortedSet<SessionKey>> _byUser = new(StringComparer.Ordinal);
    private readonly Dictionary<SessionStatus, SortedSet<SessionKey>> _byStatus = [];

    // Ids of sessions being created (between the id check and the creation record's filing).
    private readonly HashSet<string> _reserved = new(StringComparer.Ordinal);

    // Sessions whose activity time, user or status may have changed since they were filed: re-filed before the
    // next query that reads the ordered sets, so an add costs a flag instead of three sorted-set moves.
    private readonly List<SessionEntry> _refile = [];

    // Sessions removed since the last checkpoint that the index file still holds.
    private List<SessionEntry> _removed = [];

    // Sessions changed since the last checkpoint: a checkpoint visits these, not every session.
    private readonly object _dirtyLock = new();
    private List<SessionEntry> _dirty = [];

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _byId.Count;
            }
        }
    }

    public bool TryGet(string sessionId, out SessionEntry entry)
    {
        lock (_lock)
        {
            return _byId.TryGetValue(sessionId, out entry!);
        }
    }

    public bool TryGet(ulong number, out SessionEntry entry)
    {
        lock (_lock)
        {
            return _byNumber.TryGetValue(number, out entry!);
        }
    }

    /// <summary>
    /// Reserves an id for a session about to be created, so concurrent creates of one id make exactly one; false
    /// when a session holds it or another create reserved it. <see cref="Unreserve"/> after the create is filed
    /// (or failed).
    /// </summary>
    public bool TryReserve(string sessionId)
    {
        lock (_lock)
        {
            return !_byId.ContainsKey(sessionId) && _reserved.Add(sessionId);
        }
    }

    /// <summary>Ends a <see cref="TryReserve"/>.</summary>
    public void Unreserve(string sessionId)
    {
        lock (_lock)
        {
            _reserved.Remove(sessionId);
        }
    }

    /// <summary>Adds a session; false when its id is taken.</summary>
    public bool TryAdd(SessionEntry entry)
    {
        lock (_lock)
        {
            if (!_byId.TryAdd(entry.State.Metadata.SessionId, entry))
            {
                return false;
            }
            _byNumber[entry.Number] = entry;
            File(entry);
            entry.Owner = this;
            lock (entry.Lock)
            {
                entry.Changed(); // a new session is saved by the next checkpoint
            }
            return true;
        }
    }

    /// <summary>
    /// Loads many sessions into an empty index at once (the checkpoint at open): the ordered sets are built
    /// from sorted arrays instead of one insert at a time.
    /// </summary>
    public void Load(List<SessionEntry> entries)
    {
        lock (_lock)
        {
            if (_byId.Count != 0)
            {
                throw new InvalidOperationException("Load needs an empty index.");
            }
            var time = new List<SessionKey>(entries.Count);
            var users = new Dictionary<string, List<SessionKey>>(StringComparer.Ordinal);
            var statuses = new Dictionary<SessionStatus, List<SessionKey>>();
            foreach (var e in entries)
            {
                var m = e.State.Metadata;
                if (!_byId.TryAdd(m.SessionId, e))
                {
                    continue;
                }
                _byNumber[e.Number] = e;
                e.Owner = this;
                var key = Stamp(e);
                time.Add(key);
                if (m.UserId is not null)
                {
                    (users.TryGetValue(m.UserId, out var u) ? u : users[m.UserId] = []).Add(key);
                }
                (statuses.TryGetValue(m.Status, out var st) ? st : statuses[m.Status] = []).Add(key);
            }
            _byTime = new SortedSet<SessionKey>(time);
            foreach (var (user, keys) in users)
            {
                _byUser[user] = new SortedSet<SessionKey>(keys);
            }
            foreach (var (status, keys) in statuses)
            {
                _byStatus[status] = new SortedSet<SessionKey>(keys);
            }
        }
    }

    public void Remove(SessionEntry entry)
    {
        lock (_lock)
        {
            if (_byNumber.Remove(entry.Number))
            {
                lock (entry.Lock)
                {
                    entry.Removed = true;
                }
                _byId.Remove(entry.State.Metadata.SessionId);
                Unfile(entry);
                if (entry.Saved.InFile)
                {
                    _removed.Add(entry);
                }
            }
        }
    }

    /// <summary>Notes that a session's activity time, user or status may have changed; it is re-filed before the next query.</summary>
    public void Refile(SessionEntry entry)
    {
        lock (_lock)
        {
            if (!entry.RefileQueued)
            {
                entry.RefileQueued = true;
                _refile.Add(entry);
            }
        }
    }

    /// <summary>Re-files the queued sessions whose keys changed. Under <see cref="_lock"/>.</summary>
    private void Settle()
    {
        foreach (var entry in _refile)
        {
            entry.RefileQueued = false;
            if (!_byNumber.ContainsKey(entry.Number))
            {
                continue; // removed since: Remove unfiled it
            }
            var m = entry.State.Metadata;
            if (entry.IndexedKey.UpdatedTicks == m.UpdatedAt.UtcTicks && entry.IndexedUser == m.UserId && entry.IndexedStatus == m.Status)
            {
                continue;
            }
            Unfile(entry);
            File(entry);
        }
        _refile.Clear();
    }

    public List<SessionMetadata> Query(SessionQuery query)
    {
        lock (_lock)
        {
            Settle();
            SortedSet<SessionKey>? set = query.UserId is not null
                ? _byUser.GetValueOrDefault(query.UserId)
                : query.Status is { } st ? _byStatus.GetValueOrDefault(st) : _byTime;
            var page = new List<SessionMetadata>(Math.Min(query.Limit, 256));
            if (set is null)
            {
                return page;
            }
            var skipped = 0;
            foreach (var key in set)
            {
                var e = _byId[key.SessionId];
                if (query.Status is { } s && e.IndexedStatus != s)
                {
                    continue;
                }
                if (skipped++ < query.Offset)
                {
                    continue;
                }
                lock (e.Lock)
                {
                    page.Add(e.State.Metadata.Clone());
                }
                if (page.Count == query.Limit)
                {
                    break;
                }
            }
            return page;
        }
    }

    /// <summary>Ids of sessions idle since before <paramref name="cutoff"/>, found from the oldest end of the activity order.</summary>
    public List<string> UpdatedBefore(DateTimeOffset cutoff)
    {
        lock (_lock)
        {
            Settle();
            var ids = new List<string>();
            foreach (var key in _byTime.Reverse())
            {
                if (key.UpdatedTicks >= cutoff.UtcTicks)
                {
                    break;
                }
                ids.Add(key.SessionId);
            }
            return ids;
        }
    }

    /// <summary>Queues a changed entry for the next checkpoint (called once per entry until drained).</summary>
    public void MarkDirty(SessionEntry entry)
    {
        lock (_dirtyLock)
        {
            _dirty.Add(entry);
        }
    }

    /// <summary>The entries changed since the last call (some may since have been removed).</summary>
    public List<SessionEntry> DrainDirty()
    {
        lock (_dirtyLock)
        {
            var dirty = _dirty;
            _dirty = [];
            return dirty;
        }
    }

    /// <summary>Sessions removed since the last call that the index file still holds.</summary>
    public List<SessionEntry> DrainRemoved()
    {
        lock (_lock)
        {
            var removed = _removed;
            _removed = [];
            return removed;
        }
    }

    /// <summary>Ids of sessions in <paramref name="status"/> idle since before <paramref name="cutoff"/>, from the oldest end of that status's order.</summary>
    public List<string> UpdatedBefore(DateTimeOffset cutoff, SessionStatus status)
    {
        lock (_lock)
        {
            Settle();
            var ids = new List<string>();
            if (_byStatus.TryGetValue(status, out var set))
            {
                foreach (var key in set.Reverse())
                {
                    if (key.UpdatedTicks >= cutoff.UtcTicks)
                    {
                        break;
                    }
                    ids.Add(key.SessionId);
                }
            }
            return ids;
        }
    }

    /// <summary>Bytes of every session's segments, as the index knows them.</summary>
    public long SegmentBytes()
    {
        long total = 0;
        foreach (var e in All())
        {
            lock (e.Lock)
            {
                foreach (var s in e.Segments)
                {
                    total += s.Length;
                }
            }
        }
        return total;
    }

    public List<SessionEntry> All()
    {
        lock (_lock)
        {
            return [.. _byNumber.Values];
        }
    }

    private void File(SessionEntry e)
    {
        var m = e.State.Metadata;
        var key = Stamp(e);
        _byTime.Add(key);
        if (m.UserId is not null)
        {
            if (!_byUser.TryGetValue(m.UserId, out var u))
            {
                _byUser[m.UserId] = u = [];
            }
            u.Add(key);
        }
        if (!_byStatus.TryGetValue(m.Status, out var s))
        {
            _byStatus[m.Status] = s = [];
        }
        s.Add(key);
    }

    /// <summary>Records on the entry under which key, user and status it is filed; returns the key.</summary>
    private static SessionKey Stamp(SessionEntry e)
    {
        var m = e.State.Metadata;
        var key = new SessionKey(m.UpdatedAt.UtcTicks, m.SessionId);
        e.IndexedKey = key;
        e.IndexedUser = m.UserId;
        e.IndexedStatus = m.Status;
        return key;
    }

    private void Unfile(SessionEntry e)
    {
        _byTime.Remove(e.IndexedKey);
        if (e.IndexedUser is not null && _byUser.TryGetValue(e.IndexedUser, out var u))
        {
            u.Remove(e.IndexedKey);
            if (u.Count == 0)
            {
                _byUser.Remove(e.IndexedUser);
            }
        }
        if (_byStatus.TryGetValue(e.IndexedStatus, out var s))
        {
            s.Remove(e.IndexedKey);
        }
    }
}
