using LangSwarm.MemoryEngine.Format;
using LangSwarm.Memory;

namespace LangSwarm.MemoryEngine.Index;

/// <summary>
/// The store-wide index: sessions by id and by number, and the listings (by user, status and activity time).
/// Sessions live in the index file; memory holds the sessions in use (<see cref="SessionCache"/>), loaded on
/// first use and let go, once the file holds them unchanged, past the byte budget. Listings read the file's
/// listing key spaces with a small overlay of the sessions listed otherwise since the file's last commit, and
/// store-wide counters are the file's totals plus what the sessions in memory changed since, so no cost here
/// follows the number of sessions in the store. Guarded by one lock, taken before an entry's lock and before
/// the file's read lock (never the other way round); per-session contents are guarded by each entry's lock.
/// </summary>
internal sealed class SessionIndex(long cacheBytes = long.MaxValue, StoreCipher? cipher = null)
{
    /// <summary>Opens the payloads of sealed records applied to this index (null: the store has no key).</summary>
    public StoreCipher? Cipher { get; } = cipher;

    // Loads between two checks of the cache against its budget.
    private const int TrimEvery = 64;

    private readonly object _lock = new();
    private SessionCache _cache = new();

    // The committed listings and sessions: null until the engine attaches its file (then every session is in memory).
    private volatile IndexFile? _file;
    private ISessionContentSource? _source;
    private volatile SessionFileReader? _reader;

    // The attached file's totals and the removed sessions it still holds.
    private CommitLedger _ledger = new();

    private SessionListings _listings = new();

    // Ids of sessions being created (between the id check and the creation record's filing).
    private readonly HashSet<string> _reserved = new(StringComparer.Ordinal);

    // Sessions changed since the last checkpoint: a checkpoint visits these, not every session.
    private ChangedSessions _changed = new();

    private int _loadsSinceTrim;

    /// <summary>Sessions in the store.</summary>
    public long Count => Totals().Sessions;

    /// <summary>Sessions in memory (held by the cache or by a user of their entry).</summary>
    public int ResidentCount => _cache.Alive().Count;

    /// <summary>The attached index file (null while the engine replaces it); read without the index's lock.</summary>
    public IndexFile? AttachedFile => _file;

    /// <summary>Sessions listed other than the committed index file lists them (none right after a checkpoint without writes).</summary>
    public int OverlayCount
    {
        get
        {
            lock (_lock)
            {
                return _listings.OverlayCount(_file is not null);
            }
        }
    }

    /// <summary>The session of <paramref name="sessionId"/>, from memory or else from the index file.</summary>
    public bool TryGet(string sessionId, out SessionEntry entry)
    {
        lock (_lock)
        {
            if (_cache.TryGet(sessionId, out entry))
            {
                return Use(entry);
            }
            return FileHolds(sessionId, out var number) && TryLoad(number, out entry);
        }
    }

    /// <summary>The session numbered <paramref name="number"/>, from memory or else from the index file.</summary>
    public bool TryGet(ulong number, out SessionEntry entry)
    {
        lock (_lock)
        {
            if (_cache.TryGet(number, out entry))
            {
                return Use(entry);
            }
            return TryLoad(number, out entry);
        }
    }

    private bool Use(SessionEntry entry)
    {
        _cache.Hold(entry);
        entry.Touch();
        return true;
    }

    /// <summary>Loads a session the file holds into memory. Under <see cref="_lock"/>.</summary>
    private bool TryLoad(ulong number, out SessionEntry entry)
    {
        entry = null!;
        // A number at or above the file's next session number is newer than its last commit: not in the file
        // (a recovery meets thousands of such creations in the log, each asked after first).
        if (_reader is not { } reader || number >= _file!.NextSession || _ledger.IsPending(number) || !reader.TryLoad(number, out entry))
        {
            return false;
        }
        entry.Owner = this;
        if (!_cache.TryAdd(entry))
        {
            throw new InvalidDataException($"Index session record {number} has the id of another session in memory.");
        }
        // A trim visits every held entry: spacing trims by a share of them keeps a load's cost constant however
        // many are held (an unclean open loads thousands), at the price of going that share over the budget.
        if (++_loadsSinceTrim >= Math.Max(TrimEvery, _cache.HeldCount / 8))
        {
            Trim();
        }
        return true;
    }

    /// <summary>True when the file files a live session under <paramref name="sessionId"/>. Under <see cref="_lock"/>.</summary>
    private bool FileHolds(string sessionId, out ulong number)
    {
        number = 0;
        return _reader is { } reader && reader.TryFind(sessionId, out number) && !_ledger.IsPending(number);
    }

    /// <summary>The packs and the bytes their sessions name (FORMAT.md §5.3).</summary>
    public PackTable Packs { get; } = new();

    /// <summary>Forgets every session and the file (an open that starts its recovery over).</summary>
    public void Reset()
    {
        Packs.Clear();
        lock (_lock)
        {
            _cache = new SessionCache();
            _listings = new SessionListings();
            _changed = new ChangedSessions();
            _reserved.Clear();
            _ledger = new CommitLedger();
            _file = null;
            _source = null;
            _reader = null;
            _loadsSinceTrim = 0;
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
            return !_cache.TryGet(sessionId, out _) && !_reserved.Contains(sessionId) && !FileHolds(sessionId, out _) && _reserved.Add(sessionId);
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

    /// <summary>Adds a new session; false when its id or number is taken.</summary>
    public bool TryAdd(SessionEntry entry)
    {
        lock (_lock)
        {
            if (FileHolds(entry.State.Metadata.SessionId, out _) || !_cache.TryAdd(entry))
            {
                return false;
            }
            _listings.ListNow(entry, _file is not null);
            entry.Owner = this;
            entry.Touch();
            lock (entry.Lock)
            {
                entry.Changed(); // a new session is saved by the next checkpoint
            }
            return true;
        }
    }

    /// <summary>
    /// Lists from <paramref name="file"/> from now on and loads sessions from it through <paramref name="source"/>
    /// (null: from memory alone, while the engine replaces its file); with <paramref name="empty"/> (a new or
    /// recreated file) no session is taken as held there until a checkpoint commits it.
    /// </summary>
    public void Attach(IndexFile? file, bool empty, ISessionContentSource? source = null)
    {
        lock (_lock)
        {
            _file = file;
            _source = source ?? _source; // kept across a detach: a replaced file loads through it too
            _reader = file is not null && _source is { } src ? new SessionFileReader(file, src) : null;
            _ledger.Reset(empty || file is null ? StoreTotals.Zero : file.Totals, forgetRemoved: empty);
            foreach (var e in _cache.Alive())
            {
                if (empty)
                {
                    e.SetCommitted(null);
                }
                _listings.Reconcile(e, _file is not null);
            }
        }
    }

    /// <summary>
    /// After <paramref name="delta"/> was committed to the attached file: the sessions it saved are listed there
    /// as they were captured (those changed again since stay in the overlay), and its totals are the file's.
    /// </summary>
    public void Committed(IndexDelta delta, StoreTotals totals)
    {
        lock (_lock)
        {
            _ledger.Committed(delta, totals);
            foreach (var save in delta.Saves)
            {
                if (_cache.TryGet(save.Number, out var e) || _ledger.TryGetPending(save.Number, out e))
                {
                    e.SetCommitted(save.After);
                    lock (e.Lock)
                    {
                        e.TailCommitted(save.After.LastSequence);
                        if (_source is { } source)
                        {
                            e.AdoptSource(source);
                        }
                    }
                    _listings.Reconcile(e, _file is not null);
                }
            }
        }
    }

    /// <summary>The totals the file holds once <paramref name="delta"/> is committed.</summary>
    public StoreTotals TotalsAfter(IndexDelta delta)
    {
        lock (_lock)
        {
            return _ledger.After(delta);
        }
    }

    /// <summary>The store's totals now: the file's, plus what the sessions in memory changed since its commit.</summary>
    public StoreTotals Totals()
    {
        lock (_lock)
        {
            return _ledger.Current(_cache.Alive());
        }
    }

    public void Remove(SessionEntry entry)
    {
        lock (_lock)
        {
            if (!_cache.TryGet(entry.Number, out var filed) || !ReferenceEquals(filed, entry))
            {
                return;
            }
            lock (entry.Lock)
            {
                entry.Removed = true;
            }
            _cache.Forget(entry);
            _listings.Drop(entry);
            _ledger.Removed(entry);
        }
        if (entry.Pack is { } group)
        {
            // Its compacted records go with it: erased from the pack once the delete is committed.
            Packs.Leave(group);
        }
    }

    /// <summary>Notes that a session's activity time, user or status may have changed; it is re-filed before the next query.</summary>
    public void Refile(SessionEntry entry)
    {
        lock (_lock)
        {
            _listings.Refile(entry);
        }
    }

    /// <summary>
    /// A page of sessions in listing order (newest activity first, ties by id): the committed listing keys of the
    /// user, status or store, skipping sessions listed otherwise now, merged with the overlay's matching sessions.
    /// </summary>
    public List<SessionMetadata> Query(SessionQuery query)
    {
        lock (_lock)
        {
            return _listings.Query(query, _file, IsListedInFile, Peek, Load);
        }
    }

    /// <summary>Ids of sessions (of <paramref name="status"/>, or all) idle since before <paramref name="cutoff"/>.</summary>
    public List<string> UpdatedBefore(DateTimeOffset cutoff, SessionStatus? status = null)
    {
        lock (_lock)
        {
            return _listings.UpdatedBefore(cutoff, status, _file, IsListedInFile, Load);
        }
    }

    /// <summary>
    /// True when the session the file lists under (<paramref name="ticks"/>, <paramref name="number"/>) is still
    /// listed there and only there: not removed, and when in memory, not in the overlay and filed at that time
    /// (a session not in memory is exactly as the file holds it). Under <see cref="_lock"/>; runs under the
    /// file's read lock, so it reads only what the index's lock guards and loads nothing.
    /// </summary>
    private bool IsListedInFile(ulong number, long ticks) => _cache.TryGet(number, out var e)
        ? !e.InOverlay && e.Listed.UpdatedTicks == ticks
        : !_ledger.IsPending(number);

    /// <summary>The entry of a session if it is in memory (no load). Under <see cref="_lock"/>.</summary>
    private SessionEntry? Peek(ulong number) => _cache.TryGet(number, out var e) ? e : null;

    /// <summary>The entry of a session, loaded from the file when not in memory. Under <see cref="_lock"/>.</summary>
    private SessionEntry? Load(ulong number) => _cache.TryGet(number, out var e) || TryLoad(number, out e) ? e : null;

    /// <summary>
    /// Queues a changed entry for the next checkpoint (called once per entry until drained, under the entry's
    /// lock); the cache holds it until that checkpoint's commit, whoever else lets go of it.
    /// </summary>
    public void MarkDirty(SessionEntry entry)
    {
        _cache.Hold(entry);
        _changed.Add(entry);
    }

    /// <summary>The entries changed since the last call (some may since have been removed).</summary>
    public List<SessionEntry> DrainDirty() => _changed.Drain();

    /// <summary>Sessions removed since the last call that the index file still holds.</summary>
    public List<SessionEntry> DrainRemoved()
    {
        lock (_lock)
        {
            return _ledger.DrainToDelete();
        }
    }

    /// <summary>The sessions in memory (held by the cache or by a user of their entry).</summary>
    public List<SessionEntry> Resident() => _cache.Alive();

    /// <summary>The sessions the cache itself holds (what its byte budget counts).</summary>
    public List<SessionEntry> Held() => _cache.Held();

    /// <summary>
    /// Every session, each loaded into memory (a rebuild of the index file, which writes them all from memory);
    /// the caller's list keeps them there. Throws <see cref="InvalidDataException"/> where the file is damaged.
    /// </summary>
    public List<SessionEntry> LoadAll()
    {
        var all = new List<SessionEntry>();
        foreach (var o in Outlines())
        {
            if (TryGet(o.Number, out var e))
            {
                all.Add(e);
            }
        }
        return all;
    }

    /// <summary>
    /// The outline of every session: from memory for the sessions there, from the file's records for the rest.
    /// The list is a snapshot: a caller acting on a session looks it up again.
    /// </summary>
    public List<SessionOutline> Outlines() => Pass<SessionOutline, SessionOutline>(
        static f => f.Outlines(), static o => o.Number, static (e, list) => list.Add(SessionOutline.Of(e)), static (o, list) => list.Add(o));

    /// <summary>
    /// Ids of the sessions whose state owes an automatic summary or eviction: those in memory that owe now, and
    /// those the file files as owing that are not in memory (loaded, to name them). Few, once the background
    /// summarizer has caught up, so connect never visits every session.
    /// </summary>
    public List<string> OwingSessionIds() => Pass<ulong, string>(
        static f => f.Owing(),
        static n => n,
        static (e, ids) =>
        {
            if (SavedImage.Owes(e.State))
            {
                ids.Add(e.State.Metadata.SessionId);
            }
        },
        (n, ids) =>
        {
            if (Load(n) is { } e)
            {
                ids.Add(e.State.Metadata.SessionId);
            }
        });

    // Reads the file without the index's lock, then merges it with memory under it (SessionPass).
    private List<TResult> Pass<TFile, TResult>(Func<IndexFile, List<TFile>> read, Func<TFile, ulong> numberOf, Action<SessionEntry, List<TResult>> inMemory, Action<TFile, List<TResult>> fromFile)
    {
        var file = _reader?.Read(read) ?? [];
        lock (_lock)
        {
            return SessionPass.Merge(file, _cache.Alive(), number => _ledger.IsPending(number), numberOf, inMemory, fromFile);
        }
    }

    /// <summary>
    /// Past the cache's byte budget, lets go of the least recently used sessions that the file holds unchanged,
    /// and of the committed message entries of those it keeps.
    /// </summary>
    public void TrimCache()
    {
        lock (_lock)
        {
            Trim();
        }
    }

    /// <summary>Under <see cref="_lock"/>.</summary>
    private void Trim()
    {
        _loadsSinceTrim = 0;
        if (_file is not null && cacheBytes != long.MaxValue)
        {
            _cache.Trim(cacheBytes);
        }
    }
}
