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
        var (segment, offset, rolled) = Plan(session, tail, first, record.Length);
        if (rolled)
        {
            if (tail is { } t)
            {
                // The finished segment is made durable before its successor exists: after a crash a later
                // segment never survives next to a hole in an earlier one (recovery reads them in order).
                files.Flush(session, t.Segment);
                files.Create(session, segment);
                files.Flush(session, segment);
                files.SyncDirectory();
            }
            else
            {
                // Like a new session's first segment, durable with the next checkpoint's sync of seg/; recovery
                // reads on from the first number it may have (FORMAT.md §8 step 2).
                files.Create(session, segment);
            }
        }
        files.Write(session, segment, offset, record);
        return (segment, offset, rolled);
    }

    /// <summary>
    /// Where <see cref="Append"/> would put a record of <paramref name="length"/> bytes, without touching a
    /// file: recovery places the log's records with it and leaves the writing to <see cref="DeferredTails"/>.
    /// </summary>
    public (uint Segment, long Offset, bool Rolled) Plan(ulong session, (uint Segment, long Length)? tail, uint first, int length)
    {
        if (tail is not { } t)
        {
            return (first, FileHeader.Size, true);
        }
        var (segment, offset) = t;
        if (offset + length > maxSegmentBytes && offset > FileHeader.Size)
        {
            segment++;
            if (segment >= PackFiles.PackBit)
            {
                throw new IOException($"Session {session} has used every segment number.");
            }
            return (segment, FileHeader.Size, true);
        }
        return (segment, offset, false);
    }
}
