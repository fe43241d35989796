using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Index;

/// <summary>Appends a session's record to its segments and keeps the session's list of segments in step.</summary>
internal static class SegmentAppends
{
    /// <summary>Appends <paramref name="record"/> for <paramref name="entry"/> (null for a session's first record); returns where it went.</summary>
    public static (uint Segment, long Offset) Append(this SegmentAppender appender, SessionEntry? entry, ulong session, ReadOnlySpan<byte> record)
    {
        (uint, long)? tail = null;
        if (entry is not null)
        {
            lock (entry.Lock)
            {
                var last = entry.Segments[^1];
                tail = (last.Segment, last.Length);
            }
        }
        var (segment, offset, rolled) = appender.Append(session, tail, record);
        if (rolled)
        {
            lock (entry!.Lock)
            {
                entry.Segments.Add(new SegmentExtent(segment, offset));
                entry.Changed();
            }
        }
        return (segment, offset);
    }
}
