using LangSwarm.Memory;

namespace LangSwarm.MemoryEngine.Index;

/// <summary>
/// The sessions listed other than the committed index file lists them, kept in listing order (newest activity
/// first, then the newer session) overall, per user and per status, so a listing merges its page from here in
/// time that follows the page, however many sessions changed since the last checkpoint. An entry's
/// <see cref="SessionEntry.Listed"/> must not change while it is here (the index removes it first). Guarded by
/// the index's lock.
/// </summary>
internal sealed class ListingOverlay
{
    private static readonly IComparer<SessionEntry> Order = Comparer<SessionEntry>.Create(static (a, b) =>
    {
        var c = b.Listed.UpdatedTicks.CompareTo(a.Listed.UpdatedTicks);
        return c != 0 ? c : b.Number.CompareTo(a.Number);
    });

    private static readonly SortedSet<SessionEntry> Empty = new(Order);

    private readonly SortedSet<SessionEntry> _all = new(Order);
    private readonly Dictionary<string, SortedSet<SessionEntry>> _byUser = new(StringComparer.Ordinal);
    private readonly Dictionary<SessionStatus, SortedSet<SessionEntry>> _byStatus = [];

    public int Count => _all.Count;

    public void Add(SessionEntry e)
    {
        _all.Add(e);
        if (e.Listed.User is { } user)
        {
            if (!_byUser.TryGetValue(user, out var set))
            {
                _byUser[user] = set = new SortedSet<SessionEntry>(Order);
            }
            set.Add(e);
        }
        if (!_byStatus.TryGetValue(e.Listed.Status, out var byStatus))
        {
            _byStatus[e.Listed.Status] = byStatus = new SortedSet<SessionEntry>(Order);
        }
        byStatus.Add(e);
    }

    public void Remove(SessionEntry e)
    {
        _all.Remove(e);
        if (e.Listed.User is { } user && _byUser.TryGetValue(user, out var set))
        {
            set.Remove(e);
            if (set.Count == 0)
            {
                _byUser.Remove(user);
            }
        }
        if (_byStatus.TryGetValue(e.Listed.Status, out var byStatus))
        {
            byStatus.Remove(e);
        }
    }

    /// <summary>
    /// The sessions of <paramref name="user"/> (of every status: the caller filters), or else of
    /// <paramref name="status"/>, or else all, in listing order.
    /// </summary>
    public SortedSet<SessionEntry>.Enumerator Ordered(string? user, SessionStatus? status)
    {
        var set = user is not null ? _byUser.GetValueOrDefault(user) : status is { } st ? _byStatus.GetValueOrDefault(st) : _all;
        return (set ?? Empty).GetEnumerator();
    }

    /// <summary>The sessions (of <paramref name="status"/>, or all) with activity before <paramref name="cutoffTicks"/>, oldest first.</summary>
    public IEnumerable<SessionEntry> OldestBefore(long cutoffTicks, SessionStatus? status)
    {
        var set = status is { } st ? _byStatus.GetValueOrDefault(st) : _all;
        if (set is null)
        {
            yield break;
        }
        foreach (var e in set.Reverse())
        {
            if (e.Listed.UpdatedTicks >= cutoffTicks)
            {
                yield break;
            }
            yield return e;
        }
    }

    /// <summary>Moves the overlay's enumerator to its next session of <paramref name="status"/> (any, when null).</summary>
    public static bool NextMatching(ref SortedSet<SessionEntry>.Enumerator overlay, SessionStatus? status)
    {
        while (overlay.MoveNext())
        {
            if (status is not { } s || overlay.Current.Listed.Status == s)
            {
                return true;
            }
        }
        return false;
    }
}
