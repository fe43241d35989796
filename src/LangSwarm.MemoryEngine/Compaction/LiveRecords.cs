using System.Buffers;
using K4os.Compression.LZ4;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Compaction;

/// <summary>
/// Step 1 of a compaction (FORMAT.md §10): the records of one session that still matter, in LSN order, read from
/// its pack group and its own segments as they were when it started: live messages (each sequence once), every
/// summary (each LSN once) and the newest state. Archived sessions' messages, and those of sessions going into a
/// pack, come back in the cold form (LZ4 HC): both are data at rest, read far more often than rewritten. Every
/// record kept is sealed with the store's current key (FORMAT.md §13): a compaction is how data written plain
/// or under an earlier key comes under the current one.
/// </summary>
internal sealed class LiveRecords
{
    private readonly StoreCipher? _cipher;

    private LiveRecords(SessionEntry entry, bool coldForm, StoreCipher? cipher)
    {
        _cipher = cipher;
        lock (entry.Lock)
        {
            OldSegments = [.. entry.Segments];
            OldPack = entry.Pack;
            Live = [.. entry.LoadMessages().Select(m => m.Sequence)];
            SnapshotLsn = entry.LastLsn;
            State = entry.State.Clone();
            Archived = State.Metadata.Status == SessionStatus.Archived;
            Cold = coldForm || Archived;
        }
    }

    /// <summary>The session's own segments when the gathering started.</summary>
    public List<SegmentExtent> OldSegments { get; }

    /// <summary>Its pack group when the gathering started.</summary>
    public PackGroup? OldPack { get; }

    /// <summary>Its last applied LSN when the gathering started: the switch happens only if it is unchanged.</summary>
    public ulong SnapshotLsn { get; }

    public SessionState State { get; }

    /// <summary>Archived: the session record flags it cold (the vacuum's policy and the statistics count archived sessions in cold form).</summary>
    public bool Archived { get; }

    /// <summary>Archived or packed: its messages are kept in the cold form.</summary>
    public bool Cold { get; }

    /// <summary>The records kept, in LSN order.</summary>
    public List<(ulong Lsn, byte[] Bytes, RecordHeader Header)> Keep { get; } = [];

    /// <summary>Bytes of the records kept.</summary>
    public long Bytes { get; private set; }

    private HashSet<long> Live { get; }

    /// <summary>The number of its newest own segment (below its next one when it has none).</summary>
    public long LastSegment => OldSegments.Count > 0 ? OldSegments[^1].Segment : (long)(OldPack?.NextSegment ?? 0) - 1;

    /// <summary>
    /// Gathers a session's live records (messages in the cold form with <paramref name="coldForm"/>); null when its
    /// files went meanwhile (deleted). <paramref name="withState"/> false leaves the newest state record out: a pack
    /// group's opening record carries that state (<see cref="GroupOpening"/>).
    /// </summary>
    public static LiveRecords? Gather(SessionEntry entry, RecordFiles files, StoreCipher? cipher, bool coldForm = false, bool withState = true)
    {
        var live = new LiveRecords(entry, coldForm, cipher);
        var takenMessages = new HashSet<long>();
        var takenSummaries = new HashSet<ulong>();
        byte[]? lastState = null;
        RecordHeader lastStateHeader = default;
        void Visit(long offset, in RecordHeader h, ReadOnlySpan<byte> record)
        {
            if (h.Lsn > live.SnapshotLsn)
            {
                return;
            }
            switch (h.Type)
            {
                case RecordType.Message when live.Live.Contains(h.Sequence) && takenMessages.Add(h.Sequence):
                    live.Keep.Add((h.Lsn, live.Kept(h, record, live.Cold), h));
                    break;
                case RecordType.Summary when h.Lsn != 0 && takenSummaries.Add(h.Lsn):
                    live.Keep.Add((h.Lsn, live.Kept(h, record, recompress: false), h));
                    break;
                case RecordType.SessionState:
                    lastState = live.Kept(h, record, recompress: false);
                    lastStateHeader = h;
                    break;
            }
        }
        try
        {
            if (live.OldPack is { } group)
            {
                var location = PackFiles.Location(group.Pack);
                StreamingRecordScanner.Scan((at, buffer) => files.Read(entry.Number, location, at, buffer), group.Offset, group.Offset + group.Length, Visit, resync: true);
            }
            foreach (var seg in live.OldSegments)
            {
                var segment = seg.Segment;
                StreamingRecordScanner.Scan((at, buffer) => files.Segments.Read(entry.Number, segment, at, buffer), FileHeader.Size, seg.Length, Visit, resync: true);
            }
        }
        catch (FileNotFoundException)
        {
            return null; // deleted meanwhile: nothing to compact
        }
        if (lastState is not null && withState)
        {
            live.Keep.Add((lastStateHeader.Lsn, lastState, lastStateHeader));
        }
        live.Keep.Sort((a, b) => a.Lsn.CompareTo(b.Lsn));
        foreach (var k in live.Keep)
        {
            live.Bytes += k.Bytes.Length;
        }
        return live;
    }

    /// <summary>The opening record of the new set (LSN 0, no counters): a scan from nothing recreates the session from it.</summary>
    public byte[] Opening(ulong number) => OpeningRecord.Encode(number, State, keepLastSequence: false, _cipher);

    /// <summary>
    /// The opening record of a pack group: the session's state as it was gathered, its last sequence kept (a group
    /// holds no other state record, FORMAT.md §5.3), no counters.
    /// </summary>
    public byte[] GroupOpening(ulong number) => OpeningRecord.Encode(number, State, keepLastSequence: true, _cipher);

    /// <summary>
    /// A record to keep: as it is when it is already in its final form (sealed with the current key, or plain in a
    /// store without one), else re-encoded (with LZ4 HC when <paramref name="recompress"/>, the cold form), every
    /// header field kept but the lengths and flags the encoding sets.
    /// </summary>
    private byte[] Kept(in RecordHeader h, ReadOnlySpan<byte> record, bool recompress)
    {
        var isSealed = (h.Flags & RecordFlags.Sealed) != 0;
        var final = _cipher is null ? !isSealed : isSealed && System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(record[RecordHeader.Size..]) == _cipher.KeyId;
        if (final && !recompress)
        {
            return record.ToArray();
        }
        var n = RecordCodec.DecodePayload(record, h, _cipher, out var payload);
        try
        {
            var output = new ArrayBufferWriter<byte>(record.Length + 64);
            // Encode leaves the LSN as given in the header: the same as the original record's.
            RecordCodec.Encode(output, h, payload.AsSpan(0, n), recompress ? LZ4Level.L09_HC : LZ4Level.L00_FAST, allowCompression: true, _cipher);
            return output.WrittenSpan.ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(payload);
        }
    }
}
