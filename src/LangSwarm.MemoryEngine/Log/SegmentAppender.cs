using LangSwarm.MemoryEngine.Format;

namespace LangSwarm.MemoryEngine.Log;

/// <summary>Appends records to the end of a session's newest segment, starting a new segment past the size limit.</summary>
internal sealed class SegmentAppender(SegmentFiles files, long maxSegmentBytes)
{
    /// <summary>
    /// Appends <paramref name="record"/> after <paramref name="tail"/> (the session's newest segment and its
    /// length; null when it has none, which creates segment <paramref name="first"/>: 0 for a new session, the
    /// next number for a packed one). <c>Rolled</c> says a segment was started for it: the caller records it in
    /// the session's entry.
    /// </summary>
    public (uint Segment, long Offset, bool Rolled) Append(ulong session, (uint Segment, long Length)? tail, uint first, ReadOnlySpan<byte> record)
    {
        if (tail is not { } t)
        {
            // Like a new session's first segment, durable with the next checkpoint's sync of seg/; recovery
            // reads on from the first number it may have (FORMAT.md §8 step 2).
            files.Create(session, first);
            files.Write(session, first, FileHeader.Size, record);
            return (first, FileHeader.Size, true);
        }
        var (segment, length) = t;
        var rolled = false;
        if (length + record.Length > maxSegmentBytes && length > FileHeader.Size)
        {
            // The finished segment is made durable before its successor exists: after a crash a later
            // segment never survives next to a hole in an earlier one (recovery reads them in order).
            files.Flush(session, segment);
            segment++;
            if (segment >= PackFiles.PackBit)
            {
                throw new IOException($"Session {session} has used every segment number.");
            }
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
