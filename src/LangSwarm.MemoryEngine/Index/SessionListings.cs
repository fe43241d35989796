using LangSwarm.Memory;

namespace LangSwarm.MemoryEngine.Index;

/// <summary>
/// The session listings (by user, status and activity time): the committed file's listing keys merged with an
/// overlay of the sessions listed otherwise since its last commit, so a listing's cost follows the page it
/// returns and memory holds no ordered set of every session. Guarded by the index's lock (every call is made
/// under it); <see cref="SessionEntry.Listed"/>, <see cref="SessionEntry.InOverlay"/> and
/// <see cref="SessionEntry.RefileQueued"/> are this class's to change.
/// </summary>
internal sealed class SessionListings
{
    // Sessions listed other than the committed file lists them (new, changed or moved since its last commit).
    private readonly ListingOverlay _overlay = new();

    // Sessions whose activity time, user or status may have changed since they were filed: re-filed before the
    // next query that reads the listings, so an add costs a flag instead of moving keys.
    private readonly List<SessionEntry> _refile = [];

    /// <summary>Sessions in the overlay, once the queued ones are re-filed.</summary>
    public int OverlayCount(bool fileAttached)
    {
        Settle(fileAttached);
        return _overlay.Count;
    }

    /// <summary>Takes a removed session out of the overlay.</summary>
    public void Drop(SessionEntry e)
    {
        if (e.InOverlay)
        {
            _overlay.Remove(e);
            e.InOverlay = false;
        }
    }

    /// <summary>Notes that a session's activity time, user or status may have changed; it is re-filed before the next query.</summary>
    public void Refile(SessionEntry entry)
    {
        if (!entry.RefileQueued)
        {
            entry.RefileQueued = true;
            _refile.Add(entry);
        }
    }

    /// <summary>Re-files the queued sessions.</summary>
    public void Settle(bool fileAttached)
    {
        foreach (var entry in _refile)
        {
            entry.RefileQueued = false;
            if (!entry.Removed)
            {
                ListNow(entry, fileAttached); // not when removed since: Remove took it out of the overlay
            }
        }
        _refile.Clear();
    }

    /// <summary>
    /// A page of sessions in listing order (newest activity first, ties by id): the committed listing keys of the
    /// user, status or store, skipping sessions listed otherwise now, merged with the overlay's matching sessions.
    /// Sessions not in memory are loaded (<paramref name="load"/>) only for the page itself and for ties.
    /// </summary>
    public List<SessionMetadata> Query(SessionQuery query, IndexFile? file, Func<ulong, long, bool> isListedInFile, Func<ulong, SessionEntry?> peek, Func<ulong, SessionEntry?> load)
    {
        Settle(file is not null);
        var overlay = _overlay.Ordered(query.UserId, query.Status);
        var page = new ListingPage(query.Offset, query.Limit, item => (item.Entry ?? load(item.Number))?.State.Metadata.SessionId ?? string.Empty);
        var status = query.Status;
        var pending = ListingOverlay.NextMatching(ref overlay, status);
        var more = true;
        if (file is { IsEmpty: false })
        {
            // The file's sessions first, in order: enough for the page plus the rest of the last time's ties
            // (the page orders those by id). A user's keys do not say the status: with both, the user's whole
            // range is read and each session loaded to filter it. The overlay's enumerator is a struct the
            // visitor cannot hold, so the merge happens after the scan.
            var filter = query.UserId is not null && status is not null;
            var wanted = filter ? int.MaxValue : query.Offset + query.Limit;
            var listed = new List<(long Ticks, ulong Number)>(Math.Min(wanted, 1024));
            file.VisitNewestFirst(query.UserId, status, (ticks, number) =>
            {
                if (listed.Count >= wanted && listed[^1].Ticks != ticks)
                {
                    return false;
                }
                if (isListedInFile(number, ticks))
                {
                    listed.Add((ticks, number));
                }
                return true;
            });
            foreach (var (ticks, number) in listed)
            {
                var e = filter ? load(number) : peek(number);
                if (filter && (e is null || e.Listed.Status != status))
                {
                    continue;
                }
                while (pending && Listing.Precedes(overlay.Current.Listed.UpdatedTicks, overlay.Current.Number, ticks, number))
                {
                    if (!page.Offer(ListingItem.Of(overlay.Current)))
                    {
                        more = false;
                        break;
                    }
                    pending = ListingOverlay.NextMatching(ref overlay, status);
                }
                if (!more || !page.Offer(new ListingItem(ticks, number, e)))
                {
                    more = false;
                    break;
                }
            }
        }
        while (more && pending && page.Offer(ListingItem.Of(overlay.Current)))
        {
            pending = ListingOverlay.NextMatching(ref overlay, status);
        }
        var picked = page.Finish();
        var result = new List<SessionMetadata>(picked.Count);
        foreach (var item in picked)
        {
            if ((item.Entry ?? load(item.Number)) is { } e)
            {
                lock (e.Lock)
                {
                    result.Add(e.State.Metadata.Clone());
                }
            }
        }
        return result;
    }

    /// <summary>Ids of sessions (of <paramref name="status"/>, or all) idle since before <paramref name="cutoff"/>.</summary>
    public List<string> UpdatedBefore(DateTimeOffset cutoff, SessionStatus? status, IndexFile? file, Func<ulong, long, bool> isListedInFile, Func<ulong, SessionEntry?> load)
    {
        Settle(file is not null);
        var ticks = cutoff.UtcTicks;
        var ids = new List<string>();
        foreach (var e in _overlay.OldestBefore(ticks, status))
        {
            ids.Add(e.State.Metadata.SessionId);
        }
        if (file is not null)
        {
            var listed = new List<ulong>();
            file.VisitOlderThan(ticks, status, (t, number) =>
            {
                if (isListedInFile(number, t))
                {
                    listed.Add(number);
                }
                return true;
            });
            foreach (var number in listed)
            {
                if (load(number) is { } e)
                {
                    ids.Add(e.State.Metadata.SessionId);
                }
            }
        }
        return ids;
    }

    /// <summary>Records where the session is listed now and whether the overlay holds it.</summary>
    public void ListNow(SessionEntry e, bool fileAttached)
    {
        var now = Listing.Of(e.State.Metadata);
        if (e.InOverlay && now != e.Listed)
        {
            _overlay.Remove(e); // the overlay's order is by the listing: out before it changes
            e.InOverlay = false;
        }
        e.Listed = now;
        Reconcile(e, fileAttached);
    }

    /// <summary>
    /// Puts the entry in the overlay exactly when the file lists it otherwise than it is listed now; a removed
    /// session is never listed (a commit of a capture taken before its delete must not bring it back).
    /// </summary>
    public void Reconcile(SessionEntry e, bool fileAttached)
    {
        var inOverlay = !e.Removed && (!fileAttached || e.Committed != e.Listed);
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
