namespace LangSwarm.MemoryEngine.Index;

/// <summary>
/// What the attached index file holds as of its last commit, beside memory: its totals, and the sessions
/// removed that it still holds (never to be loaded from it again until a commit deletes them). The store's
/// totals now are the file's plus what the sessions in memory changed since, less the removed ones. Guarded
/// by the index's lock (every call is made under it).
/// </summary>
internal sealed class CommitLedger
{
    private StoreTotals _committed;

    // Removed since the last capture, for the next checkpoint's delta.
    private List<SessionEntry> _toDelete = [];

    // Removed and still in the committed file (captured or not).
    private readonly Dictionary<ulong, SessionEntry> _pending = [];

    /// <summary>Starts over from a file's totals (a new or recreated file: zero, and nothing pending in it).</summary>
    public void Reset(StoreTotals committed, bool forgetRemoved)
    {
        _committed = committed;
        if (forgetRemoved)
        {
            _pending.Clear();
            _toDelete = [];
        }
    }

    /// <summary>A removed session; when a checkpoint captured it, the file holds it until the next commit.</summary>
    public void Removed(SessionEntry entry)
    {
        if (entry.Saved.InFile)
        {
            _toDelete.Add(entry);
            _pending[entry.Number] = entry;
        }
    }

    /// <summary>True when the session was removed but the committed file still holds it.</summary>
    public bool IsPending(ulong number) => _pending.ContainsKey(number);

    /// <summary>Sessions removed since the last call that the index file still holds.</summary>
    public List<SessionEntry> DrainToDelete()
    {
        var removed = _toDelete;
        _toDelete = [];
        return removed;
    }

    /// <summary>The totals the file holds once <paramref name="delta"/> is committed.</summary>
    public StoreTotals After(IndexDelta delta)
    {
        var totals = _committed;
        foreach (var (_, _, saved) in delta.Removed)
        {
            totals -= saved.Counted;
        }
        foreach (var save in delta.Saves)
        {
            totals += save.After.Counted - save.Before.Counted;
        }
        return totals;
    }

    /// <summary>
    /// <paramref name="delta"/> was committed with <paramref name="totals"/>: its removed sessions are gone from the
    /// file; a saved session removed since is found here to be marked as committed.
    /// </summary>
    public void Committed(IndexDelta delta, StoreTotals totals)
    {
        _committed = totals;
        foreach (var (number, _, _) in delta.Removed)
        {
            _pending.Remove(number);
        }
    }

    /// <summary>A removed session the file still holds, by number.</summary>
    public bool TryGetPending(ulong number, out SessionEntry entry) => _pending.TryGetValue(number, out entry!);

    /// <summary>The store's totals: the file's, plus what the sessions in <paramref name="memory"/> changed since, less the removed ones.</summary>
    public StoreTotals Current(List<SessionEntry> memory)
    {
        var totals = _committed;
        foreach (var e in memory)
        {
            lock (e.Lock)
            {
                totals += StoreTotals.Of(e) - e.CommittedTotals;
            }
        }
        foreach (var e in _pending.Values)
        {
            totals -= e.CommittedTotals;
        }
        return totals;
    }
}
