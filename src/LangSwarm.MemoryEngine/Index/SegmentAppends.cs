using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Index;

/// <summary>Appends a session's record to its segments and keeps the session's list of segments in step.</summary>
internal static class SegmentAppends
{
    /// <summary>Appends <paramref name="record"/> for <paramref name="entry"/> (null for a session's first record); returns where it went.</summary>
    public static (uint Segment, long Offset) Append(this SegmentAppender appender, SessionEntry? entry, ulong session, ReadOnlySpan<byte> record)
    {
        var (tail, first) = TailOf(entry);
        var (segment, offset, rolled) = appender.Append(session, tail, first, record);
        Rolled(entry, segment, offset, rolled);
        return (segment, offset);
    }

    /// <summary>
    /// Where <see cref="Append"/> would put a record of <paramref name="length"/> bytes, kept in the session's
    /// list of segments as if it had been written (recovery's deferred tails write it later).
    /// </summary>
    public static (uint Segment, long Offset, bool Rolled) Plan(this SegmentAppender appender, SessionEntry? entry, ulong session, int length)
    {
        var (tail, first) = TailOf(entry);
        var (segment, offset, rolled) = appender.Plan(session, tail, first, length);
        Rolled(entry, segment, offset, rolled);
        return (segment, offset, rolled);
    }

    private static ((uint, long)? Tail, uint First) TailOf(SessionEntry? entry)
    {
        if (entry is null)
        {
            return (null, 0);
        }
        lock (entry.Lock)
        {
            if (entry.Segments.Count > 0)
            {
                var last = entry.Segments[^1];
                return ((last.Segment, last.Length), 0);
            }
            // A packed session written again: its records from here on go to a segment of its own.
            return (null, entry.NextOwnSegment);
        }
    }

    private static void Rolled(SessionEntry? entry, uint segment, long offset, bool rolled)
    {
        if (rolled && entry is not null)
        {
            lock (entry.Lock)
            {
                entry.Segments.Add(new SegmentExtent(segment, offset));
                entry.Changed();
            }
        }
    }
}
