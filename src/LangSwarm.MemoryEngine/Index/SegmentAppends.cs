using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Index;

/// <summary>Appends a session's record to its segments and keeps the session's list of segments in step.</summary>
internal static class SegmentAppends
{
    /// <summary>Appends <paramref name="record"/> for <paramref name="entry"/> (null for a session's first record); returns where it went.</summary>
    public static (uint Segment, long Offset) Append(this SegmentAppender appender, SessionEntry? entry, ulong session, ReadOnlySpan<byte> record)
    {
        (uint, long)? tail = null;
        uint first = 0;
        if (entry is not null)
        {
            lock (entry.Lock)
            {
                if (entry.Segments.Count > 0)
                {
                    var last = entry.Segments[^1];
                    tail = (last.Segment, last.Length);
                }
                else
                {
                    // A packed session written again: its records from here on go to a segment of its own.
                    first = entry.NextOwnSegment;
                }
            }
        }
        var (segment, offset, rolled) = appender.Append(session, tail, first, record);
        if (rolled && entry is not null)
        {
            lock (entry.Lock)
            {
                entry.Segments.Add(new SegmentExtent(segment, offset));
                entry.Changed();
            }
        }
        return (segment, offset);
    }
}
