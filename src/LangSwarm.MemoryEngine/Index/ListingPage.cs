namespace LangSwarm.MemoryEngine.Index;

/// <summary>
/// Collects one page from sessions offered in listing order by time: sessions of equal activity time are held
/// until the time changes and then taken in id order (the listing's tie rule), so a page never ends inside a tie.
/// </summary>
internal sealed class ListingPage(int offset, int limit)
{
    private readonly List<SessionEntry> _picked = new(Math.Min(limit, 256));
    private readonly List<SessionEntry> _tie = [];
    private int _skipped;

    /// <summary>Offers the next session; false once the page is full (stop offering).</summary>
    public bool Offer(SessionEntry e)
    {
        if (_tie.Count > 0 && _tie[0].Listed.UpdatedTicks != e.Listed.UpdatedTicks && !Flush())
        {
            return false;
        }
        _tie.Add(e);
        return true;
    }

    /// <summary>The page, once every session was offered or <see cref="Offer"/> said stop.</summary>
    public List<SessionEntry> Finish()
    {
        Flush();
        return _picked;
    }

    private bool Flush()
    {
        if (_tie.Count > 1)
        {
            _tie.Sort(static (a, b) => string.CompareOrdinal(a.State.Metadata.SessionId, b.State.Metadata.SessionId));
        }
        for (var i = 0; i < _tie.Count; i++)
        {
            var e = _tie[i];
            if (_picked.Count == limit)
            {
                break;
            }
            if (_skipped < offset)
            {
                _skipped++;
                continue;
            }
            _picked.Add(e);
        }
        _tie.Clear();
        return _picked.Count < limit;
    }
}
