using System.Buffers;
using System.Diagnostics;
using K4os.Compression.LZ4;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Compaction;

/// <summary>
/// The compaction of one session (FORMAT.md §10): its live records copied into fresh segments (archived
/// sessions recompressed in their cold form), fsynced, and swapped in under the session's lock unless it moved
/// on meanwhile. The old segments are handed back to the caller, to delete once a checkpoint names the new ones.
/// </summary>
internal sealed class SessionRewriter(SegmentFiles segments, SessionIndex index, long segmentMaxBytes)
{
    /// <summary>How long the last rewrite's fsyncs took (a vacuum pauses at least that long before the next session).</summary>
    public int LastFlushMs { get; private set; }

    /// <summary>Copies one session's live records into fresh segments and swaps them in; false when it changed meanwhile.</summary>
    public bool Rewrite(SessionEntry entry, List<(ulong Session, uint Segment)> superseded)
    {
        List<SegmentExtent> oldSegments;
        HashSet<long> live;
        ulong snapshotLsn;
        SessionState state;
        bool cold;
        lock (entry.Lock)
        {
            oldSegments = [.. entry.Segments];
            live = [.. entry.LoadMessages().Select(m => m.Sequence)];
            snapshotLsn = entry.LastLsn;
            state = entry.State.Clone();
            cold = state.Metadata.Status == SessionStatus.Archived;
        }

        // 1. Gather the records that still matter, in LSN order: live messages, summaries, the latest state.
        //    Each once: a message by its sequence, a summary by its LSN (a copy left by an interrupted rewrite
        //    must never count twice).
        var keep = new List<(ulong Lsn, byte[] Bytes, RecordHeader Header)>();
        var takenMessages = new HashSet<long>();
        var takenSummaries = new HashSet<ulong>();
        byte[]? lastState = null;
        RecordHeader lastStateHeader = default;
        foreach (var seg in oldSegments)
        {
            var segment = seg.Segment;
            try
            {
                StreamingRecordScanner.Scan((at, buffer) => segments.Read(entry.Number, segment, at, buffer), FileHeader.Size, seg.Length, (long offset, in RecordHeader h, ReadOnlySpan<byte> record) =>
                {
                    if (h.Lsn > snapshotLsn)
                    {
                        return;
                    }
                    switch (h.Type)
                    {
                        case RecordType.Message when live.Contains(h.Sequence) && takenMessages.Add(h.Sequence):
                            keep.Add((h.Lsn, cold ? Recompress(h, record) : record.ToArray(), h));
                            break;
                        case RecordType.Summary when h.Lsn != 0 && takenSummaries.Add(h.Lsn):
                            keep.Add((h.Lsn, record.ToArray(), h));
                            break;
                        case RecordType.SessionState:
                            lastState = record.ToArray();
                            lastStateHeader = h;
                            break;
                    }
                }, resync: true);
            }
            catch (FileNotFoundException)
            {
                return false; // deleted meanwhile: nothing to compact
            }
        }
        if (lastState is not null)
        {
            keep.Add((lastStateHeader.Lsn, lastState, lastStateHeader));
        }
        keep.Sort((a, b) => a.Lsn.CompareTo(b.Lsn));

        // 2. Write them to new segments, after a synthetic opening state (LSN 0, zero counters) that lets a
        //    scan from nothing recreate the session; fsync files and directory before anything points at them.
        // Numbered well past the live segments: a roll by a concurrent append (which makes the swap give up)
        // must never land on a file the rewrite is writing or will delete.
        var first = oldSegments[^1].Segment + OpeningRecord.RewriteSegmentGap;
        var newSegments = new List<SegmentExtent>();
        var newMessages = new List<MessageEntry>(live.Count);
        var stateLength = 0;
        {
            var segment = first;
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
            var openingRecord = OpeningRecord.Encode(entry.Number, state, keepLastSequence: false);
            RecordHeader.TryRead(openingRecord, out var openingHeader, out _);
            Put(openingRecord, openingHeader);
            foreach (var (_, bytes, header) in keep)
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
        }

        // 3. Swap, unless the session moved on meanwhile or has a write in flight (then the new files are
        //    dropped; a later pass retries). Under the session's lock only: a write reserves its place
        //    (Appending) under that lock before it takes an LSN, so none can land in the old segments after
        //    the swap, and other sessions' writes never wait for it.
        {
            // Membership outside the entry's lock (listings take the index lock, then entries'); a delete after
            // this check moves LastLsn, which the check under the lock sees.
            var filed = index.TryGet(entry.Number, out _);
            lock (entry.Lock)
            {
                if (!filed || entry.Appending > 0 || entry.LastLsn != snapshotLsn)
                {
                    foreach (var s in newSegments)
                    {
                        segments.Delete(entry.Number, s.Segment);
                    }
                    return false;
                }
                foreach (var s in oldSegments)
                {
                    superseded.Add((entry.Number, s.Segment));
                }
                entry.Segments.Clear();
                entry.Segments.AddRange(newSegments);
                var messages = entry.LoadMessages();
                messages.Clear();
                messages.AddRange(newMessages);
                // Counters follow what is live, by construction.
                long tokens = 0;
                foreach (var m in newMessages)
                {
                    tokens += m.Tokens;
                }
                entry.State.LiveMessages = newMessages.Count;
                entry.State.LiveTokens = tokens;
                entry.DeadBytes = 0;
                entry.LastStateLength = stateLength;
                entry.Cold = cold;
                entry.Changed(relocated: true);
            }
        }
        return true;
    }

    /// <summary>Re-encodes a message record with LZ4 HC for the cold form, keeping every header field.</summary>
    private static byte[] Recompress(in RecordHeader h, ReadOnlySpan<byte> record)
    {
        var n = RecordCodec.DecodePayload(record, h, out var payload);
        try
        {
            var output = new ArrayBufferWriter<byte>(record.Length + 64);
            RecordCodec.Encode(output, h, payload.AsSpan(0, n), LZ4Level.L09_HC);
            var bytes = output.WrittenSpan.ToArray();
            // Encode leaves the LSN as given in the header: the same as the original record's.
            return bytes;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(payload);
        }
    }
}
