namespace LangSwarm.MemoryEngine.Index;

/// <summary>A session offered to a listing: its listed time and number, and its entry when it is in memory.</summary>
internal readonly record struct ListingItem(long Ticks, ulong Number, SessionEntry? Entry)
{
    public static ListingItem Of(SessionEntry e) => new(e.Listed.UpdatedTicks, e.Number, e);
}

/// <summary>
/// Collects one page from sessions offered in listing order by time: sessions of equal activity time are held
/// until the time changes and then taken in id order (the listing's tie rule), so a page never ends inside a tie.
/// Only ties need ids (<paramref name="idOf"/>): the sessions skipped for the offset are never loaded otherwise.
/// </summary>
internal sealed class ListingPage(int offset, int limit, Func<ListingItem, string> idOf)
{
    private readonly List<ListingItem> _picked = new(Math.Min(limit, 256));
    private ListingItem? _held;            // the first session of the time being collected
    private List<ListingItem>? _ties;      // the others of that time, when there are any
    private int _skipped;

    /// <summary>Offers the next session; false once the page is full (stop offering).</summary>
    public bool Offer(ListingItem e)
    {
        if (_held is { } held)
        {
            if (held.Ticks == e.Ticks)
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
    public List<ListingItem> Finish()
    {
        Flush();
        return _picked;
    }

    private bool Flush()
    {
        if (_held is { } held)
        {
            if (_ties is { Count: > 0 } ties)
            {
                ties.Add(held);
                var ordered = new List<(string Id, ListingItem Item)>(ties.Count);
                foreach (var t in ties)
                {
                    ordered.Add((idOf(t), t));
                }
                ordered.Sort(static (a, b) => string.CompareOrdinal(a.Id, b.Id));
                foreach (var (_, e) in ordered)
                {
                    Take(e);
                }
                ties.Clear();
            }
            else
            {
                Take(held);
            }
            _held = null;
        }
        return _picked.Count < limit;
    }

    private void Take(ListingItem e)
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
