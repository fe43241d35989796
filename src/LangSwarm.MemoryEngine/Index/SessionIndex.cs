using LangSwarm.Memory;

namespace LangSwarm.MemoryEngine.Index;

/// <summary>
/// The store-wide index: sessions by id and by number, and the listings (by user, status and activity time)
/// read from the index file's listing key spaces with a small overlay of the sessions listed otherwise since
/// the file's last commit, so a listing's cost follows the page it returns and memory holds no ordered set of
/// every session. Guarded by one lock, taken before an entry's lock and before the file's read lock (never
/// the other way round); per-session contents are guarded by each entry's lock.
/// </summary>
internal sealed class SessionIndex
{
    private readonly object _lock = new();
    private readonly Dictionary<string, SessionEntry> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<ulong, SessionEntry> _byNumber = [];

    // The committed listings: null until the engine attaches its file (then every session is in the overlay).
    private volatile IndexFile? _file;

    // Sessions listed other than the committed file lists them (new, changed or moved since its last commit).
    private readonly ListingOverlay _overlay = new();

    // Ids of sessions being created (between the id check and the creation record's filing).
    private readonly HashSet<string> _reserved = new(StringComparer.Ordinal);

    // Sessions whose activity time, user or status may have changed since they were filed: re-filed before the
    // next query that reads the listings, so an add costs a flag instead of moving keys.
    private readonly List<SessionEntry> _refile = [];

    // Sessions removed since the last checkpoint that the index file still holds.
    private List<SessionEntry> _removed = [];

    // Sessions changed since the last checkpoint: a checkpoint visits these, not every session.
    private readonly ChangedSessions _changed = new();

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

    /// <summary>The attached index file (null while the engine replaces it); read without the index's lock.</summary>
    public IndexFile? AttachedFile => _file;

    /// <summary>Sessions listed other than the committed index file lists them (none right after a checkpoint without writes).</summary>
    public int OverlayCount
    {
        get
        {
            lock (_lock)
            {
                Settle();
                return _overlay.Count;
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
            ListNow(entry);
            entry.Owner = this;
            lock (entry.Lock)
            {
                entry.Changed(); // a new session is saved by the next checkpoint
            }
            return true;
        }
    }

    /// <summary>Loads many sessions into an empty index at once (the checkpoint at open).</summary>
    public void Load(List<SessionEntry> entries)
    {
        lock (_lock)
        {
            if (_byId.Count != 0)
            {
                throw new InvalidOperationException("Load needs an empty index.");
            }
            _byId.EnsureCapacity(entries.Count);
            _byNumber.EnsureCapacity(entries.Count);
            foreach (var e in entries)
            {
                if (!_byId.TryAdd(e.State.Metadata.SessionId, e))
                {
                    continue;
                }
                _byNumber[e.Number] = e;
                e.Owner = this;
                e.Committed = e.Saved.Listing;
                e.CommittedLastSequence = e.Saved.InFile ? e.Saved.LastSequence : 0;
                ListNow(e);
            }
        }
    }

    /// <summary>
    /// Lists from <paramref name="file"/> from now on (null: from the overlay alone, while the engine replaces its
    /// file); with <paramref name="empty"/> (a new or recreated file) no session is taken as listed there until a
    /// checkpoint commits it.
    /// </summary>
    public void Attach(IndexFile? file, bool empty)
    {
        lock (_lock)
        {
            _file = file;
            foreach (var e in _byNumber.Values)
            {
                if (empty)
                {
                    e.Committed = null;
                    e.CommittedLastSequence = 0;
                }
                Reconcile(e);
            }
        }
    }

    /// <summary>
    /// After <paramref name="delta"/> was committed to the attached file: the sessions it saved are listed there
    /// as they were captured (those changed again since stay in the overlay).
    /// </summary>
    public void Committed(IndexDelta delta)
    {
        lock (_lock)
        {
            foreach (var save in delta.Saves)
            {
                if (_byNumber.TryGetValue(save.Number, out var e))
                {
                    e.Committed = save.After.Listing;
                    e.CommittedLastSequence = save.After.LastSequence;
                    Reconcile(e);
                }
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
                if (entry.InOverlay)
                {
                    _overlay.Remove(entry);
                    entry.InOverlay = false;
                }
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

    /// <summary>Re-files the queued sessions. Under <see cref="_lock"/>.</summary>
    private void Settle()
    {
        foreach (var entry in _refile)
        {
            entry.RefileQueued = false;
            if (_byNumber.ContainsKey(entry.Number))
            {
                ListNow(entry); // not when removed since: Remove took it out of the overlay
            }
        }
        _refile.Clear();
    }

    /// <summary>
    /// A page of sessions in listing order (newest activity first, ties by id): the committed listing keys of the
    /// user, status or store, skipping sessions listed otherwise now, merged with the overlay's matching sessions.
    /// </summary>
    public List<SessionMetadata> Query(SessionQuery query)
    {
        lock (_lock)
        {
            Settle();
            var overlay = _overlay.Ordered(query.UserId, query.Status);
            var page = new ListingPage(query.Offset, query.Limit);
            var status = query.Status;
            var pending = ListingOverlay.NextMatching(ref overlay, status);
            var more = true;
            if (_file is { IsEmpty: false } file)
            {
                // The file's sessions first, in order: enough for the page plus the rest of the last time's ties
                // (the page orders those by id). The overlay's enumerator is a struct the visitor cannot hold, so
                // the merge happens after the scan.
                var wanted = query.Offset + query.Limit;
                var fromFile = new List<SessionEntry>(Math.Min(wanted, 1024));
                file.VisitNewestFirst(query.UserId, status, (ticks, number) =>
                {
                    if (fromFile.Count >= wanted && fromFile[^1].Listed.UpdatedTicks != ticks)
                    {
                        return false;
                    }
                    if (IsListedInFile(number, ticks, out var e) && (status is not { } s || e.Listed.Status == s))
                    {
                        fromFile.Add(e);
                    }
                    return true;
                });
                foreach (var e in fromFile)
                {
                    while (pending && Listing.Precedes(overlay.Current.Listed.UpdatedTicks, overlay.Current.Number, e.Listed.UpdatedTicks, e.Number))
                    {
                        if (!page.Offer(overlay.Current))
                        {
                            more = false;
                            break;
                        }
                        pending = ListingOverlay.NextMatching(ref overlay, status);
                    }
                    if (!more || !page.Offer(e))
                    {
                        more = false;
                        break;
                    }
                }
            }
            while (more && pending && page.Offer(overlay.Current))
            {
                pending = ListingOverlay.NextMatching(ref overlay, status);
            }
            var picked = page.Finish();
            var result = new List<SessionMetadata>(picked.Count);
            foreach (var e in picked)
            {
                lock (e.Lock)
                {
                    result.Add(e.State.Metadata.Clone());
                }
            }
            return result;
        }
    }

    /// <summary>Ids of sessions (of <paramref name="status"/>, or all) idle since before <paramref name="cutoff"/>.</summary>
    public List<string> UpdatedBefore(DateTimeOffset cutoff, SessionStatus? status = null)
    {
        lock (_lock)
        {
            Settle();
            var ticks = cutoff.UtcTicks;
            var ids = new List<string>();
            foreach (var e in _overlay.OldestBefore(ticks, status))
            {
                ids.Add(e.State.Metadata.SessionId);
            }
            _file?.VisitOlderThan(ticks, status, (t, number) =>
            {
                if (IsListedInFile(number, t, out var e))
                {
                    ids.Add(e.State.Metadata.SessionId);
                }
                return true;
            });
            return ids;
        }
    }

    /// <summary>
    /// True when the session the file lists under (<paramref name="ticks"/>, <paramref name="number"/>) is still
    /// listed there and only there: alive, not in the overlay, and filed at that time. Under <see cref="_lock"/>;
    /// reads only fields the index's lock guards (it runs under the file's read lock).
    /// </summary>
    private bool IsListedInFile(ulong number, long ticks, out SessionEntry entry) =>
        _byNumber.TryGetValue(number, out entry!) && !entry.InOverlay && entry.Listed.UpdatedTicks == ticks;

    /// <summary>Queues a changed entry for the next checkpoint (called once per entry until drained).</summary>
    public void MarkDirty(SessionEntry entry) => _changed.Add(entry);

    /// <summary>The entries changed since the last call (some may since have been removed).</summary>
    public List<SessionEntry> DrainDirty() => _changed.Drain();

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

    public List<SessionEntry> All()
    {
        lock (_lock)
        {
            return [.. _byNumber.Values];
        }
    }

    /// <summary>Records where the session is listed now and whether the overlay holds it. Under <see cref="_lock"/>.</summary>
    private void ListNow(SessionEntry e)
    {
        var now = Listing.Of(e.State.Metadata);
        if (e.InOverlay && now != e.Listed)
        {
            _overlay.Remove(e); // the overlay's order is by the listing: out before it changes
            e.InOverlay = false;
        }
        e.Listed = now;
        Reconcile(e);
    }

    /// <summary>Puts the entry in the overlay exactly when the file lists it otherwise than it is listed now.</summary>
    private void Reconcile(SessionEntry e)
    {
        var inOverlay = _file is null || e.Committed != e.Listed;
        if (inOverlay != e.InOverlay)
        {
            e.InOverlay = inOverlay;
            if (inOverlay)
            {
                _overlay.Add(e);
            }
            else
            {
                _overlay.Remove(e);
            }
        }
    }
}
