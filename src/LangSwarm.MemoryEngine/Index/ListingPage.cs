namespace LangSwarm.MemoryEngine.Index;

/// <summary>
/// Collects one page from sessions offered in listing order by time: sessions of equal activity time are held
/// until the time changes and then taken in id order (the listing's tie rule), so a page never ends inside a tie.
/// </summary>
internal sealed class ListingPage(int offset, int limit)
{
    private readonly List<SessionEntry> _picked = new(Math.Min(limit, 256));
    private SessionEntry? _held;           // the first session of the time being collected
    private List<SessionEntry>? _ties;     // the others of that time, when there are any
    private int _skipped;

    /// <summary>Offers the next session; false once the page is full (stop offering).</summary>
    public bool Offer(SessionEntry e)
    {
        if (_held is not null)
        {
            if (_held.Listed.UpdatedTicks == e.Listed.UpdatedTicks)
            {
                (_ties ??= []).Add(e);
                return true;
            }
            if (!Flush())
            {
                return false;
            }
        }
        _held = e;
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
        if (_held is not null)
        {
            if (_ties is { Count: > 0 } ties)
            {
                ties.Add(_held);
                ties.Sort(static (a, b) => string.CompareOrdinal(a.State.Metadata.SessionId, b.State.Metadata.SessionId));
                foreach (var e in ties)
                {
                    Take(e);
                }
                ties.Clear();
            }
            else
            {
                Take(_held);
            }
            _held = null;
        }
        return _picked.Count < limit;
    }

    private void Take(SessionEntry e)
    {
        if (_picked.Count == limit)
        {
            return;
        }
        if (_skipped < offset)
        {
            _skipped++;
            return;
        }
        _picked.Add(e);
    }
}
