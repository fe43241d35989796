using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Recovery;

namespace LangSwarm.MemoryEngine.Engine;

/// <summary>
/// Picks a session's message entries in a query's sequence range: from the entry list when it is in memory;
/// otherwise, for a window's read (the newest <c>N</c>, or a range with an upper bound), from the index file's
/// message keys (<c>M</c>, for the sequences the committed file holds) and the entries appended since, without
/// loading the session's entry list. A context of a long session that is not in memory thus costs the range it
/// reads (newest first, it stops at its limit) instead of loading every entry of the session, which would then
/// stay resident until the cache lets it go. An open-ended read (all, from a sequence on, since a time) reads
/// about the whole session anyway: it loads the list as on first use, and later reads use it.
/// </summary>
internal static class RangePicker
{
    /// <summary>
    /// The entries of live messages matching <paramref name="query"/>, ascending; only the newest
    /// <paramref name="newest"/> when set (walked newest first, stopping there).
    /// </summary>
    public static List<MessageEntry> Pick(SessionEntry entry, IndexFile? file, MessageQuery query, int? newest)
    {
        lock (entry.Lock)
        {
            var window = newest is not null || query.ToSequence != long.MaxValue;
            if (window && !entry.MessagesLoaded && file is not null && TryPickFromFile(entry, file, query, newest) is { } picked)
            {
                entry.Touch();
                return picked;
            }
            return PickLoaded(entry, query, newest);
        }
    }

    /// <summary>From the loaded list (loading it when it is not); caller holds the entry's lock.</summary>
    private static List<MessageEntry> PickLoaded(SessionEntry entry, MessageQuery query, int? newest)
    {
        var messages = entry.LoadMessages();
        var picked = new List<MessageEntry>();
        if (newest is { } n)
        {
            var end = query.ToSequence == long.MaxValue ? messages.Count : entry.LowerBound(query.ToSequence + 1);
            for (var i = end - 1; i >= 0 && picked.Count < n; i--)
            {
                var m = messages[i];
                if (m.Sequence < query.FromSequence)
                {
                    break;
                }
                AddIfMatches(picked, query, m);
            }
            picked.Reverse();
            return picked;
        }
        for (var i = entry.LowerBound(query.FromSequence); i < messages.Count && messages[i].Sequence <= query.ToSequence; i++)
        {
            AddIfMatches(picked, query, messages[i]);
        }
        return picked;
    }

    /// <summary>
    /// From the committed file (sequences up to <see cref="SessionEntry.CommittedLastSequence"/>) and the entries
    /// appended above them; null when the file cannot answer (nothing committed, or damage met: the loaded path's
    /// loader reports and rebuilds it). Caller holds the entry's lock, which keeps a commit from dropping the
    /// appended entries meanwhile.
    /// </summary>
    private static List<MessageEntry>? TryPickFromFile(SessionEntry entry, IndexFile file, MessageQuery query, int? newest)
    {
        var committed = entry.CommittedLastSequence;
        if (committed <= 0)
        {
            return null;
        }
        var above = entry.TailAbove(committed);
        var last = Math.Min(query.ToSequence, committed);
        var picked = new List<MessageEntry>();
        try
        {
            if (newest is { } n)
            {
                for (var i = above.Count - 1; i >= 0 && picked.Count < n; i--)
                {
                    var m = above[i];
                    if (m.Sequence < query.FromSequence)
                    {
                        break;
                    }
                    if (m.Sequence <= query.ToSequence)
                    {
                        AddIfMatches(picked, query, m);
                    }
                }
                if (picked.Count < n)
                {
                    file.VisitMessages(entry.Number, query.FromSequence, last, newestFirst: true, m =>
                    {
                        AddIfMatches(picked, query, m);
                        return picked.Count < n;
                    });
                }
                picked.Reverse();
                return picked;
            }
            file.VisitMessages(entry.Number, query.FromSequence, last, newestFirst: false, m =>
            {
                AddIfMatches(picked, query, m);
                return true;
            });
        }
        catch (InvalidDataException)
        {
            return null;
        }
        catch (IOException ex)
        {
            throw StorageErrors.Wrap(ex, $"Reading the index entries of session '{entry.State.Metadata.SessionId}' failed");
        }
        foreach (var m in above)
        {
            if (m.Sequence > query.ToSequence)
            {
                break;
            }
            if (m.Sequence >= query.FromSequence)
            {
                AddIfMatches(picked, query, m);
            }
        }
        return picked;
    }

    private static void AddIfMatches(List<MessageEntry> picked, MessageQuery query, in MessageEntry m)
    {
        if (query.Matches(m.Sequence, new DateTimeOffset(m.TimeTicks, TimeSpan.Zero), (MessageRole)m.Role))
        {
            picked.Add(m);
        }
    }
}
