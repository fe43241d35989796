using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Storage;

namespace LangSwarm.MemoryEngine.Engine;

/// <summary>Appends records to the end of a session's newest segment, starting a new segment past the size limit.</summary>
internal sealed class SegmentAppender(SegmentFiles files, long maxSegmentBytes)
{
    /// <summary>Appends <paramref name="record"/>; <paramref name="entry"/> is null for a session's first record.</summary>
    public (uint Segment, long Offset) Append(SessionEntry? entry, ulong session, ReadOnlySpan<byte> record)
    {
        uint segment;
        long length;
        if (entry is null)
        {
            segment = 0;
            files.Create(session, 0);
            length = FileHeader.Size;
        }
        else
        {
            lock (entry.Lock)
            {
                var last = entry.Segments[^1];
                segment = last.Segment;
                length = last.Length;
            }
            if (length + record.Length > maxSegmentBytes && length > FileHeader.Size)
            {
                // The finished segment is made durable before its successor exists: after a crash a later
                // segment never survives next to a hole in an earlier one (recovery reads them in order).
                files.Flush(session, segment);
                segment++;
                files.Create(session, segment);
                files.Flush(session, segment);
                files.SyncDirectory();
                length = FileHeader.Size;
                lock (entry.Lock)
                {
                    entry.Segments.Add(new SegmentExtent(segment, length));
                    entry.Changed();
                }
            }
        }
        files.Write(session, segment, length, record);
        return (segment, length);
    }
}
