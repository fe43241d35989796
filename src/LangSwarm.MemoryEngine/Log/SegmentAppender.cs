using LangSwarm.MemoryEngine.Format;

namespace LangSwarm.MemoryEngine.Log;

/// <summary>Appends records to the end of a session's newest segment, starting a new segment past the size limit.</summary>
internal sealed class SegmentAppender(SegmentFiles files, long maxSegmentBytes)
{
    /// <summary>
    /// Appends <paramref name="record"/> after <paramref name="tail"/> (the session's newest segment and its
    /// length; null for a session's first record, which creates segment 0). <c>Rolled</c> says a new segment was
    /// started for it: the caller records it in the session's entry.
    /// </summary>
    public (uint Segment, long Offset, bool Rolled) Append(ulong session, (uint Segment, long Length)? tail, ReadOnlySpan<byte> record)
    {
        if (tail is not { } t)
        {
            files.Create(session, 0);
            files.Write(session, 0, FileHeader.Size, record);
            return (0, FileHeader.Size, false);
        }
        var (segment, length) = t;
        var rolled = false;
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
            rolled = true;
        }
        files.Write(session, segment, length, record);
        return (segment, length, rolled);
    }
}
