using System.Diagnostics;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Compaction;

/// <summary>
/// The compaction of one session into segments of its own (FORMAT.md §10): its live records
/// (<see cref="LiveRecords"/>) copied into fresh segments, fsynced, and switched in unless it moved on meanwhile
/// (<see cref="Relocation"/>). The old segments are handed back to the caller, to delete once a checkpoint names
/// the new ones; a pack group it had is released to the pack table.
/// </summary>
internal sealed class SessionRewriter(RecordFiles files, SessionIndex index, long segmentMaxBytes)
{
    /// <summary>How long the last rewrite's fsyncs took (a vacuum pauses at least that long before the next session).</summary>
    public int LastFlushMs { get; private set; }

    /// <summary>Copies one session's live records into fresh segments and swaps them in; false when it changed meanwhile.</summary>
    public bool Rewrite(SessionEntry entry, List<(ulong Session, uint Segment)> superseded)
    {
        if (LiveRecords.Gather(entry, files, index.Cipher) is not { } live)
        {
            return false;
        }
        var segments = files.Segments;

        // 2. Write them to new segments, after an opening record; fsync files and directory before anything
        //    points at them. Numbered well past the live segments: a roll by a concurrent append (which makes the
        //    swap give up) must never land on a file the rewrite is writing or will delete.
        var first = live.LastSegment + OpeningRecord.RewriteSegmentGap;
        if (first + (live.Bytes / segmentMaxBytes) + 2 >= PackFiles.PackBit)
        {
            return false; // out of segment numbers (a session vacuumed two million times): leave it as it is
        }
        var newSegments = new List<SegmentExtent>();
        var newMessages = new List<MessageEntry>(live.Keep.Count);
        var stateLength = 0;
        var segment = (uint)first;
        long length = FileHeader.Size;
        segments.Create(entry.Number, segment);
        void Put(ReadOnlySpan<byte> record, in RecordHeader h)
        {
            if (length + record.Length > segmentMaxBytes && length > FileHeader.Size)
            {
                newSegments.Add(new SegmentExtent(segment, length));
                segment++;
                segments.Create(entry.Number, segment);
                length = FileHeader.Size;
            }
            segments.Write(entry.Number, segment, length, record);
            if (h.Type == RecordType.Message)
            {
                newMessages.Add(new MessageEntry(h.Sequence, h.TimeTicks, length, record.Length, h.Tokens, segment, h.Role, (byte)(h.Flags & RecordFlags.HasCalls), 0));
            }
            else if (h.Type == RecordType.SessionState)
            {
                stateLength = record.Length;
            }
            length += record.Length;
        }
        var opening = live.Opening(entry.Number);
        RecordHeader.TryRead(opening, out var openingHeader, out _);
        Put(opening, openingHeader);
        foreach (var (_, bytes, header) in live.Keep)
        {
            Put(bytes, header);
        }
        newSegments.Add(new SegmentExtent(segment, length));
        // Sync each session's new files now, a few hundred KiB at a time between the pauses, rather than
        // leaving the whole pass for the committing checkpoint: one large flush there stalls every
        // foreground fsync behind it (bench C1). The checkpoint still syncs them (then clean) and seg/.
        var flush = Stopwatch.StartNew();
        foreach (var s in newSegments)
        {
            segments.Flush(entry.Number, s.Segment);
        }
        LastFlushMs = (int)Math.Ceiling(flush.Elapsed.TotalMilliseconds);

        // 3. Switch, or drop the new files (a later pass retries).
        if (!Relocation.TrySwitch(index, entry, live, newSegments, null, newMessages, stateLength, superseded))
        {
            foreach (var s in newSegments)
            {
                segments.Delete(entry.Number, s.Segment);
            }
            return false;
        }
        return true;
    }
}
