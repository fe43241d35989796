using System.Buffers;
using System.Text.Json.Nodes;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Engine;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Index.BTree;

namespace LangSwarm.MemoryEngine.Tests.GoldenVectors;

/// <summary>
/// Builds the golden vectors of FORMAT.md appendix A from fixed inputs (ids, times, LSNs) through the engine's own
/// write path (<see cref="WriteRecords"/>, <see cref="RecordBatch"/>, the index encoders). The committed files are
/// what this produced; <see cref="GoldenVectorTests"/> fails when the encoders stop producing the same bytes.
/// </summary>
internal static class GoldenVectorSet
{
    public const ulong SessionA = 0x2a;
    public const ulong SessionB = 0x2b;
    public const string SegmentFile = "segment-000000000000002a-00000000.seg";
    public const string LogFile = "commit-0000000000000001.log";
    public const string IndexFile = "index.btree";
    public const string PackFile = "pack-00000001.pack";
    public const string PackedIndexFile = "index-packed.btree";
    public const uint Pack = 1;

    /// <summary>2026-01-02T03:04:05Z, the origin of every time in the vectors.</summary>
    public static readonly DateTimeOffset T0 = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    /// <summary>The five files, by name.</summary>
    public static IReadOnlyDictionary<string, byte[]> Build()
    {
        var records = Records();
        var segment = new ArrayBufferWriter<byte>();
        Header(segment, new FileHeader(FileKind.Segment, FileHeader.VersionFor(0), SessionA, 0));
        var log = new ArrayBufferWriter<byte>();
        Header(log, new FileHeader(FileKind.CommitLog, FileHeader.VersionFor(0), 1, 0));
        foreach (var r in records)
        {
            log.Write(r.Bytes);
            if (r.Session == SessionA)
            {
                segment.Write(r.Bytes);
            }
        }
        // Session A compacted into pack 1 (FORMAT.md §10): its opening record (the newest state, last sequence
        // kept), then the records still live, in LSN order: messages 4 and 5 (LSNs 5, 6) and the summary (LSN 7).
        var pack = new ArrayBufferWriter<byte>();
        Header(pack, new FileHeader(FileKind.Pack, FileHeader.VersionFor(0), Pack, 0));
        var group = GroupOf(records);
        foreach (var r in group)
        {
            pack.Write(r);
        }
        return new Dictionary<string, byte[]>
        {
            [SegmentFile] = segment.WrittenSpan.ToArray(),
            [LogFile] = log.WrittenSpan.ToArray(),
            [IndexFile] = Index(SegmentPlacement(records), segment.WrittenCount, packed: null),
            [PackFile] = pack.WrittenSpan.ToArray(),
            [PackedIndexFile] = Index(PackPlacement(group), segment.WrittenCount, packed: (pack.WrittenCount, group[0], SegmentPlacement(records)[^1].Header.Lsn)),
        };
    }

    /// <summary>Session A's group: the opening record of its newest state (last sequence kept), then its live messages and summary.</summary>
    private static List<byte[]> GroupOf(List<(ulong Session, byte[] Bytes)> records)
    {
        var a = records.Where(r => r.Session == SessionA).Select(r => r.Bytes).ToList();
        var newestState = a.Last(r => HeaderOf(r).Type == RecordType.SessionState);
        var state = Format.Codecs.StateCodec.Read(Payload(newestState));
        var group = new List<byte[]> { OpeningRecord.Encode(SessionA, state, keepLastSequence: true, cipher: null) };
        group.AddRange(a.Where(r => HeaderOf(r) is { Type: RecordType.Message, Sequence: > 3 } or { Type: RecordType.Summary }));
        return group;
    }

    private static RecordHeader HeaderOf(byte[] record) => RecordHeader.TryRead(record, out var h, out _) ? h : throw new InvalidDataException("bad header");

    /// <summary>Session A's records with their offsets in its segment.</summary>
    private static List<(RecordHeader Header, byte[] Bytes, long Offset)> SegmentPlacement(List<(ulong Session, byte[] Bytes)> records) =>
        Place(records.Where(r => r.Session == SessionA).Select(r => r.Bytes));

    /// <summary>Session A's group records with their offsets in the pack (the opening record left out: it is no entry's).</summary>
    private static List<(RecordHeader Header, byte[] Bytes, long Offset)> PackPlacement(List<byte[]> group) => Place(group).Skip(1).ToList();

    private static List<(RecordHeader Header, byte[] Bytes, long Offset)> Place(IEnumerable<byte[]> records)
    {
        var placed = new List<(RecordHeader, byte[], long)>();
        long at = FileHeader.Size;
        foreach (var bytes in records)
        {
            placed.Add((HeaderOf(bytes), bytes, at));
            at += bytes.Length;
        }
        return placed;
    }

    private static void Header(ArrayBufferWriter<byte> output, FileHeader header)
    {
        header.WriteTo(output.GetSpan(FileHeader.Size));
        output.Advance(FileHeader.Size);
    }

    /// <summary>Every record of the vectors, in LSN order (1 to 12).</summary>
    private static List<(ulong Session, byte[] Bytes)> Records()
    {
        var list = new List<(ulong, byte[])>();
        var lsn = 1UL;
        void Add(ulong session, Action<RecordBatch> write)
        {
            var batch = new RecordBatch();
            write(batch);
            batch.StampLsns(lsn);
            for (var i = 0; i < batch.Count; i++)
            {
                list.Add((session, batch.Record(i).ToArray()));
            }
            lsn += (ulong)batch.Count;
        }

        // Session A: created, four messages (a tool-call turn, its result, an LZ4-compressed answer, a legacy
        // function_call), a summary of the first three with their eviction, and the state written with them.
        var a = new SessionMetadata("golden-a", "user-1")
        {
            CreatedAt = T0,
            UpdatedAt = T0,
            MaxMessages = 50,
            MaxTokens = 4000,
            AutoSummarizeThreshold = 3,
            SummaryStrategy = SummaryStrategy.Rolling,
            EvictionLowWater = 0.5,
            Metadata = new JsonObject { ["topic"] = "weather", ["tags"] = new JsonArray("demo", "golden") },
        };
        Add(SessionA, b => WriteRecords.AddState(b, SessionA, new SessionState(a)));
        var messages = new[]
        {
            new Message(MessageRole.User, "What is the weather in Oslo?") { MessageId = "m-1", Sequence = 1, Timestamp = T0.AddSeconds(1), TokenCount = 7 },
            new Message(MessageRole.Assistant, string.Empty)
            {
                MessageId = "m-2",
                Sequence = 2,
                Timestamp = T0.AddSeconds(2),
                TokenCount = 12,
                ToolCalls = JsonNode.Parse("""[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}]""")!.AsArray(),
            },
            new Message(MessageRole.Tool, """{"temp_c":4,"sky":"overcast"}""")
            {
                MessageId = "m-3",
                Sequence = 3,
                Timestamp = T0.AddSeconds(3),
                TokenCount = 9,
                Metadata = new JsonObject { ["tool_call_id"] = "call_1", ["name"] = "get_weather" },
            },
        };
        Add(SessionA, b => WriteRecords.AddMessages(b, SessionA, messages, T0.AddSeconds(3).UtcTicks));
        var answer = string.Concat(Enumerable.Repeat("Oslo is 4 degrees and overcast. ", 5)) + "Take a coat.";
        Add(SessionA, b => WriteRecords.AddMessages(b, SessionA, [new Message(MessageRole.Assistant, answer) { MessageId = "m-4", Sequence = 4, Timestamp = T0.AddSeconds(4), TokenCount = 40 }], T0.AddSeconds(4).UtcTicks));
        var legacy = new Message(MessageRole.Assistant, "Checking the forecast.")
        {
            MessageId = "m-5",
            Sequence = 5,
            Timestamp = T0.AddSeconds(5),
            TokenCount = 11,
            FunctionCall = new JsonObject { ["name"] = "get_forecast", ["arguments"] = new JsonObject { ["city"] = "Oslo", ["days"] = 2 } },
        };
        Add(SessionA, b => WriteRecords.AddMessages(b, SessionA, [legacy], T0.AddSeconds(5).UtcTicks));
        var summary = new ConversationSummary
        {
            SummaryId = "sum-1",
            SessionId = "golden-a",
            SummaryText = "The user asked for the weather in Oslo; it is 4 degrees and overcast.",
            MessageCount = 3,
            TokenCount = 15,
            CreatedAt = T0.AddSeconds(6),
            SummaryType = SummaryType.Auto,
            FirstSequence = 1,
            LastSequence = 3,
        };
        var after = new SessionState(a.Clone()) { LastSequence = 5, LiveMessages = 2, LiveTokens = 51, SummarizedThrough = 3 };
        after.Metadata.UpdatedAt = T0.AddSeconds(6);
        Add(SessionA, b =>
        {
            var now = T0.AddSeconds(6).UtcTicks;
            WriteRecords.AddSummary(b, SessionA, summary, after.LastSequence, now);
            WriteRecords.AddEvict(b, SessionA, [3, 1, 2], after.LastSequence, now);
            WriteRecords.AddState(b, SessionA, after);
        });

        // Session B, in the commit log only: created without a user, one message, deleted.
        var bMeta = new SessionMetadata("golden-b") { CreatedAt = T0.AddSeconds(7), UpdatedAt = T0.AddSeconds(7) };
        Add(SessionB, b => WriteRecords.AddState(b, SessionB, new SessionState(bMeta)));
        Add(SessionB, b => WriteRecords.AddMessages(b, SessionB, [new Message(MessageRole.User, "hello") { MessageId = "b-1", Sequence = 1, Timestamp = T0.AddSeconds(8), TokenCount = 1 }], T0.AddSeconds(8).UtcTicks));
        Add(SessionB, b => WriteRecords.AddDelete(b, SessionB, 1, T0.AddSeconds(9).UtcTicks));
        return list;
    }

    /// <summary>
    /// A three-page index file as a checkpoint after LSN 12 writes it: meta page 0 (transaction 0, the empty
    /// tree), meta page 1 (transaction 1), and page 2, the one leaf, holding session A in every key space: in its
    /// segment, or (<paramref name="packed"/>: the pack's length) packed in pack 1 after a compaction.
    /// </summary>
    private static byte[] Index(List<(RecordHeader Header, byte[] Bytes, long Offset)> placed, int segmentLength, (int Length, byte[] Opening, ulong LastLsn)? packed)
    {
        // The state record: the newest one of the segment, or the pack group's opening record.
        var stateRecord = packed?.Opening ?? placed[^1].Bytes;
        var state = Format.Codecs.StateCodec.Read(Payload(stateRecord));
        // The index's counters and last sequence, whatever the record holds.
        state.LastSequence = 5;
        state.LiveMessages = 2;
        state.LiveTokens = 51;
        var entry = new SessionEntry(SessionA, state)
        {
            LastLsn = packed?.LastLsn ?? placed[^1].Header.Lsn,
            // The first state record, the three evicted messages and the Evict record itself are dead; a
            // compaction keeps none of them.
            DeadBytes = packed is null ? placed.Where(p => p.Header.Type == RecordType.Evict || (p.Header.Type == RecordType.Message && p.Header.Sequence <= 3) || p.Header.Lsn == 1).Sum(p => (long)p.Bytes.Length) : 0,
            LastStateLength = stateRecord.Length,
        };
        var location = 0u;
        if (packed is { Length: var packLength })
        {
            // The group runs from the header to the end of the pack; its session's own segment 0 is gone.
            entry.Pack = new PackGroup(Pack, FileHeader.Size, packLength - FileHeader.Size, 1);
            location = Log.PackFiles.Location(Pack);
        }
        else
        {
            entry.Segments.Add(new SegmentExtent(0, segmentLength));
        }
        var live = placed.Where(p => p.Header.Type == RecordType.Message && p.Header.Sequence > 3).ToList();
        var summary = placed.Single(p => p.Header.Type == RecordType.Summary);

        var sessionValue = new ArrayBufferWriter<byte>();
        SessionRecord.Write(sessionValue, entry, live.Count, 1);
        var idValue = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(idValue, SessionA);
        var entries = new List<(byte[] Key, byte[] Value)>
        {
            (IndexKeys.ForSessionId("golden-a"), idValue),
            (IndexKeys.ForSession(SessionA), sessionValue.WrittenSpan.ToArray()),
            (IndexKeys.ForTime(state.Metadata.UpdatedAt.UtcTicks, SessionA), []),
            (IndexKeys.ForUser("user-1", state.Metadata.UpdatedAt.UtcTicks, SessionA), []),
            (IndexKeys.ForStatus(state.Metadata.Status, state.Metadata.UpdatedAt.UtcTicks, SessionA), []),
            (IndexKeys.LayoutKey, [0, 0, 0, (byte)IndexKeys.CurrentLayout]),
            (IndexKeys.ForSummary(SessionA, 0), Payload(summary.Bytes)),
            // One active session; its live messages, one summary, dead bytes and its segments (layout 3 on).
            (IndexKeys.TotalsKey, new StoreTotals(1, 1, 0, live.Count, 1, entry.DeadBytes, entry.Segments.Count, entry.Segments.Sum(x => x.Length), 0).Encode()),
        };
        if (entry.Pack is { } g)
        {
            var image = new ArrayBufferWriter<byte>();
            new PackImage(g.Offset + g.Length, g.Length, []).Write(image);
            entries.Add((IndexKeys.ForPack(Pack), image.WrittenSpan.ToArray()));
        }
        if (SavedImage.Owes(state))
        {
            entries.Add((IndexKeys.ForOwing(SessionA), []));
        }
        foreach (var m in live)
        {
            var h = m.Header;
            entries.Add((IndexKeys.ForMessage(SessionA, h.Sequence), SessionRecord.EncodeMessage(new MessageEntry(h.Sequence, h.TimeTicks, m.Offset, m.Bytes.Length, h.Tokens, location, h.Role, (byte)(h.Flags & RecordFlags.HasCalls), 0))));
            // Layout 5: the role key holds no time.
            entries.Add((IndexKeys.ForRole(SessionA, (MessageRole)h.Role, h.Sequence), []));
        }
        entries.Sort((x, y) => x.Key.AsSpan().SequenceCompareTo(y.Key));
        var leaf = Node.NewLeaf();
        foreach (var (key, value) in entries)
        {
            leaf.LeafInsert(leaf.Keys.Count, key, new LeafValue(value, 0, value.Length));
        }
        var file = new byte[3 * BTreePageHeader.PageSize];
        new BTreeMeta(0, 0, 0, 2, 0, 0, 0, 0, 0).WriteTo(file.AsSpan(0, BTreePageHeader.PageSize));
        // Covered LSN = next LSN = 13 (every record of the vectors is in the tree), next session number 0x2c.
        new BTreeMeta(1, 2, 0, 3, (ulong)entries.Count, 13, 13, SessionB + 1, 0).WriteTo(file.AsSpan(BTreePageHeader.PageSize, BTreePageHeader.PageSize));
        leaf.Encode(file.AsSpan(2 * BTreePageHeader.PageSize, BTreePageHeader.PageSize), 2, 1);
        BTreePageHeader.Seal(file.AsSpan(2 * BTreePageHeader.PageSize, BTreePageHeader.PageSize));
        return file;
    }

    /// <summary>The raw payload of a record.</summary>
    public static byte[] Payload(ReadOnlySpan<byte> record)
    {
        RecordHeader.TryRead(record, out var h, out _);
        var n = RecordCodec.DecodePayload(record, h, out var buffer);
        var payload = buffer.AsSpan(0, n).ToArray();
        ArrayPool<byte>.Shared.Return(buffer);
        return payload;
    }
}
