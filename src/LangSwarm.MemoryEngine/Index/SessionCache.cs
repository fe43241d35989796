namespace LangSwarm.MemoryEngine.Index;

/// <summary>
/// The sessions in memory, by number and by id. Each session has at most one entry object at a time: every
/// entry is found here as long as anything holds it (a session handle, a listing's page), because the table
/// refers to entries weakly; the cache itself holds entries strongly until the index releases them (clean ones,
/// past its byte budget), after which an entry costs nothing once nobody else holds it, and the next use loads
/// it again from the index file. Its lock is a leaf: nothing else is taken under it.
/// </summary>
internal sealed class SessionCache
{
    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, WeakReference<SessionEntry>> _byNumber = [];
    private readonly Dictionary<string, ulong> _byId = new(StringComparer.Ordinal);
    private readonly HashSet<SessionEntry> _held = new(ReferenceEqualityComparer.Instance);
    private int _sweepAt = 1024;

    /// <summary>Entries the cache holds strongly.</summary>
    public int HeldCount
    {
        get
        {
            lock (_lock)
            {
                return _held.Count;
            }
        }
    }

    /// <summary>The entry of a session in memory (held here or elsewhere), or false.</summary>
    public bool TryGet(ulong number, out SessionEntry entry)
    {
        lock (_lock)
        {
            entry = null!;
            return _byNumber.TryGetValue(number, out var weak) && weak.TryGetTarget(out entry!);
        }
    }

    /// <summary>The entry of a session id in memory, or false.</summary>
    public bool TryGet(string sessionId, out SessionEntry entry)
    {
        lock (_lock)
        {
            entry = null!;
            return _byId.TryGetValue(sessionId, out var number) && _byNumber.TryGetValue(number, out var weak) && weak.TryGetTarget(out entry!);
        }
    }

    /// <summary>Adds an entry (held); false when another live entry has its number or id.</summary>
    public bool TryAdd(SessionEntry entry)
    {
        var id = entry.State.Metadata.SessionId;
        lock (_lock)
        {
            if (_byNumber.TryGetValue(entry.Number, out var weak) && weak.TryGetTarget(out _))
            {
                return false;
            }
            if (_byId.TryGetValue(id, out var other) && other != entry.Number && _byNumber.TryGetValue(other, out var otherWeak) && otherWeak.TryGetTarget(out _))
            {
                return false;
            }
            _byNumber[entry.Number] = new WeakReference<SessionEntry>(entry);
            _byId[id] = entry.Number;
            _held.Add(entry);
            if (_byNumber.Count >= _sweepAt)
            {
                Sweep();
            }
            return true;
        }
    }

    /// <summary>Holds an entry strongly again (it changed, or is in use).</summary>
    public void Hold(SessionEntry entry)
    {
        lock (_lock)
        {
            _held.Add(entry);
        }
    }

    /// <summary>Stops holding an entry: once nobody else does, it is gone from memory.</summary>
    public void Release(SessionEntry entry)
    {
        lock (_lock)
        {
            _held.Remove(entry);
        }
    }

    /// <summary>Forgets a removed session's entry (when it is still the one filed under its number and id).</summary>
    public void Forget(SessionEntry entry)
    {
        lock (_lock)
        {
            _held.Remove(entry);
            if (_byNumber.TryGetValue(entry.Number, out var weak) && (!weak.TryGetTarget(out var current) || ReferenceEquals(current, entry)))
            {
                _byNumber.Remove(entry.Number);
            }
            var id = entry.State.Metadata.SessionId;
            if (_byId.TryGetValue(id, out var number) && number == entry.Number)
            {
                _byId.Remove(id);
            }
        }
    }

    /// <summary>Every entry in memory, held here or not.</summary>
    public List<SessionEntry> Alive()
    {
        lock (_lock)
        {
            var alive = new List<SessionEntry>(_held.Count);
            foreach (var weak in _byNumber.Values)
            {
                if (weak.TryGetTarget(out var e))
                {
                    alive.Add(e);
                }
            }
            return alive;
        }
    }

    /// <summary>The entries held here.</summary>
    public List<SessionEntry> Held()
    {
        lock (_lock)
        {
            return [.. _held];
        }
    }

    /// <summary>
    /// Past <paramref name="budget"/> bytes held, lets go of the least recently used entries that
    /// <see cref="CanRelease"/> allows, with their loaded content, until the held entries fit in nine tenths of
    /// the budget (so that a busy cache does not trim on every load); of entries it must keep, it lets go of the
    /// message entries the committed file holds. The caller holds the index's lock;
    /// entries are visited outside the cache's lock, which is a leaf.
    /// </summary>
    public void Trim(long budget)
    {
        var held = Held();
        var sized = new List<(long LastUsed, long Bytes, SessionEntry Entry)>(held.Count);
        long total = 0;
        foreach (var e in held)
        {
            long bytes;
            lock (e.Lock)
            {
                bytes = e.EstimatedBytes;
            }
            total += bytes;
            sized.Add((e.LastUsed, bytes, e));
        }
        if (total <= budget)
        {
            return;
        }
        var target = budget / 10 * 9;
        sized.Sort(static (a, b) => a.LastUsed.CompareTo(b.LastUsed));
        foreach (var (_, bytes, e) in sized)
        {
            if (total <= target)
            {
                break;
            }
            lock (e.Lock)
            {
                if (!CanRelease(e))
                {
                    // Kept (changed since the commit, or busy), but the entries the committed file holds need
                    // not be: a session written round-robin keeps only what it gained since the checkpoint.
                    if (e.CommittedVersion == e.Saved.Version && e.Unload())
                    {
                        total -= bytes - e.EstimatedBytes;
                    }
                    continue;
                }
                e.Unload();
                Release(e); // under the entry's lock: a change now would hold it again before this ran
            }
            total -= bytes;
        }
    }

    /// <summary>
    /// True when memory may let the entry go: the committed file holds it as it is, and no write, checkpoint or
    /// listing change is pending on it (under the index's lock and the entry's).
    /// </summary>
    private static bool CanRelease(SessionEntry e) =>
        !e.Removed && !e.Queued && e.Appending == 0 && e.CommittedVersion == e.Version && !e.InOverlay && !e.RefileQueued;

    /// <summary>Drops the table rows of collected entries (amortised: when the table doubled since the last sweep).</summary>
    private void Sweep()
    {
        HashSet<ulong>? dead = null;
        foreach (var (number, weak) in _byNumber)
        {
            if (!weak.TryGetTarget(out _))
            {
                (dead ??= []).Add(number);
            }
        }
        if (dead is not null)
        {
            foreach (var number in dead)
            {
                _byNumber.Remove(number);
            }
            List<string>? ids = null;
            foreach (var (id, number) in _byId)
            {
                if (dead.Contains(number))
                {
                    (ids ??= []).Add(id);
                }
            }
            foreach (var id in ids ?? [])
            {
                _byId.Remove(id);
            }
        }
        _sweepAt = Math.Max(1024, _byNumber.Count * 2);
    }
}
