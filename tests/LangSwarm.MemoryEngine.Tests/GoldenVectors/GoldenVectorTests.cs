using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using K4os.Compression.LZ4;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format.Codecs;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Index.BTree;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests.GoldenVectors;

/// <summary>
/// The golden vectors of FORMAT.md appendix A: each committed file decodes to its committed expected content
/// (<c>*.expected.json</c>), every record and page re-encodes to the same bytes, and the encoders still produce
/// the committed files from the fixed inputs of <see cref="GoldenVectorSet"/>. A change of any of these is a
/// format change: FORMAT.md first, then regenerate with <c>LSMEM_WRITE_GOLDEN_VECTORS=1</c> and review the diff.
/// </summary>
public sealed class GoldenVectorTests
{
    public static TheoryData<string> Files => [GoldenVectorSet.SegmentFile, GoldenVectorSet.LogFile, GoldenVectorSet.IndexFile, GoldenVectorSet.PackFile, GoldenVectorSet.PackedIndexFile];

    public static TheoryData<string> RecordFiles => [GoldenVectorSet.SegmentFile, GoldenVectorSet.LogFile, GoldenVectorSet.PackFile];

    public static TheoryData<string> IndexFiles => [GoldenVectorSet.IndexFile, GoldenVectorSet.PackedIndexFile];

    private static FileKind KindOf(string name) => name switch
    {
        GoldenVectorSet.SegmentFile => FileKind.Segment,
        GoldenVectorSet.PackFile => FileKind.Pack,
        _ => FileKind.CommitLog,
    };

    private static bool IsIndex(string name) => name is GoldenVectorSet.IndexFile or GoldenVectorSet.PackedIndexFile;

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Committed(string name) => Path.Combine(AppContext.BaseDirectory, "GoldenVectors", name);

    private static byte[] Read(string name) => File.ReadAllBytes(Committed(name));

    private static string ExpectedName(string name) => name + ".expected.json";

    [Fact]
    public void Encoders_StillWriteTheCommittedVectors()
    {
        var built = GoldenVectorSet.Build();
        if (Environment.GetEnvironmentVariable("LSMEM_WRITE_GOLDEN_VECTORS") == "1")
        {
            var source = SourceDirectory();
            foreach (var (name, bytes) in built)
            {
                File.WriteAllBytes(Path.Combine(source, name), bytes);
                File.WriteAllText(Path.Combine(source, ExpectedName(name)), Describe(name, bytes).ToJsonString(Indented) + "\n");
            }
            return;
        }
        foreach (var (name, bytes) in built)
        {
            var committed = Read(name);
            Assert.True(committed.AsSpan().SequenceEqual(bytes), $"{name}: the encoders no longer write the committed bytes (first difference at byte {FirstDifference(committed, bytes)}).");
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void EachVector_DecodesToItsExpectedContent(string name)
    {
        var expected = JsonNode.Parse(File.ReadAllText(Committed(ExpectedName(name))));
        var actual = Describe(name, Read(name));
        Assert.True(JsonNode.DeepEquals(expected, actual), $"{name} decodes to:\n{actual.ToJsonString(Indented)}");
    }

    [Theory]
    [MemberData(nameof(RecordFiles))]
    public void EveryRecord_ReencodesByteForByte(string name)
    {
        var bytes = Read(name);
        Assert.Equal(FileHeaderStatus.Ok, FileHeader.TryRead(bytes, KindOf(name), out var fileHeader));
        var header = new byte[FileHeader.Size];
        fileHeader.WriteTo(header);
        Assert.Equal(bytes[..FileHeader.Size], header);
        var records = 0;
        foreach (var (_, record) in Records(bytes))
        {
            Assert.True(RecordCodec.Verify(record, out var h));
            var payload = GoldenVectorSet.Payload(record);
            var again = new ArrayBufferWriter<byte>();
            var reencodedHeader = h;
            switch (h.Type)
            {
                case RecordType.Message:
                    var m = MessageCodec.Read(h, payload);
                    MessageCodec.Write(again, m);
                    reencodedHeader = MessageCodec.Header(h.Session, m, h.WrittenTicks) with { Lsn = h.Lsn };
                    break;
                case RecordType.SessionState:
                    StateCodec.Write(again, StateCodec.Read(payload));
                    break;
                case RecordType.Summary:
                    SummaryCodec.Write(again, SummaryCodec.Read(payload, "any"));
                    break;
                case RecordType.Evict:
                    EvictCodec.Write(again, EvictCodec.Read(payload));
                    break;
                case RecordType.SessionDelete:
                    break;
            }
            Assert.Equal(payload, again.WrittenSpan.ToArray());
            // Framing: the record codec as tools call it, and the write path's reused LZ4 state.
            var framed = new ArrayBufferWriter<byte>();
            RecordCodec.Encode(framed, reencodedHeader, payload);
            Assert.Equal(record, framed.WrittenSpan.ToArray());
            var fast = new ArrayBufferWriter<byte>();
            RecordCodec.Encode(fast, reencodedHeader, payload, LZ4Level.L00_FAST, allowCompression: true, seal: true, new Lz4FastEncoder());
            Assert.Equal(record, fast.WrittenSpan.ToArray());
            records++;
        }
        Assert.Equal(name switch { GoldenVectorSet.SegmentFile => 9, GoldenVectorSet.PackFile => 4, _ => 12 }, records);
    }

    [Theory]
    [MemberData(nameof(IndexFiles))]
    public void IndexVector_ReencodesPageForPage(string name)
    {
        var file = Read(name);
        Assert.Equal(3 * BTreePageHeader.PageSize, file.Length);
        for (uint slot = 0; slot < 2; slot++)
        {
            var page = file.AsSpan((int)slot * BTreePageHeader.PageSize, BTreePageHeader.PageSize);
            var meta = BTreeMeta.TryRead(page, slot, out var problem) ?? throw new InvalidDataException(problem);
            var again = new byte[BTreePageHeader.PageSize];
            meta.WriteTo(again);
            Assert.Equal(page.ToArray(), again);
        }
        var leafPage = file.AsSpan(2 * BTreePageHeader.PageSize, BTreePageHeader.PageSize);
        Assert.Null(BTreePageHeader.TryRead(leafPage, 2, out var h));
        var leaf = Node.Decode(leafPage, h, 3);
        var encoded = new byte[BTreePageHeader.PageSize];
        leaf.Encode(encoded, 2, h.TxId);
        BTreePageHeader.Seal(encoded);
        Assert.Equal(leafPage.ToArray(), encoded);
        for (var i = 0; i < leaf.Keys.Count; i++)
        {
            var key = leaf.Keys[i];
            var value = leaf.Values[i].Inline!;
            if (key[0] == IndexKeys.Message)
            {
                Assert.Equal(value, SessionRecord.EncodeMessage(SessionRecord.DecodeMessage(IndexKeys.SequenceOf(key), value)));
            }
            else if (key[0] == IndexKeys.Session)
            {
                var entry = SessionRecord.Read(IndexKeys.NumberOf(key), value, null!, out var messages, out var summaries);
                var again = new ArrayBufferWriter<byte>();
                SessionRecord.Write(again, entry, messages, summaries);
                Assert.Equal(value, again.WrittenSpan.ToArray());
            }
            else if (key[0] == IndexKeys.Packs)
            {
                var again = new ArrayBufferWriter<byte>();
                PackImage.Read(IndexKeys.PackOf(key), value).Write(again);
                Assert.Equal(value, again.WrittenSpan.ToArray());
            }
        }
    }

    /// <summary>What FORMAT.md says of the vectors, held independently of the expected-content files.</summary>
    [Fact]
    public void Vectors_HoldWhatTheSpecSays()
    {
        var log = Records(Read(GoldenVectorSet.LogFile)).Select(r => (r.Offset, Header: HeaderOf(r.Record), r.Record)).ToList();
        Assert.Equal(Enumerable.Range(1, 12).Select(i => (ulong)i), log.Select(r => r.Header.Lsn));
        var first = log[0].Record;
        Assert.Equal(0x4D4C, BinaryPrimitives.ReadUInt16LittleEndian(first.AsSpan(4)));
        Assert.Equal(BinaryPrimitives.ReadUInt32LittleEndian(first), Crc32C.Compute(first.AsSpan(4)));

        // LZ4 where it saves more than a sixteenth (both state records of A, the tool-call turn, the long answer);
        // the calls flag on the tool-call turn (LSN 3) and the legacy function_call (LSN 6).
        var l = RecordFlags.Lz4;
        var c = RecordFlags.HasCalls;
        RecordFlags[] flags = [l, 0, l | c, 0, l, c, 0, 0, l, 0, 0, 0];
        Assert.Equal(flags, log.Select(r => r.Header.Flags));
        Assert.All(log.Where(r => (r.Header.Flags & l) != 0), r => Assert.True(r.Header.StoredLength < r.Header.RawLength - (r.Header.RawLength >> 4)));
        Assert.All(log.Where(r => (r.Header.Flags & l) == 0), r => Assert.True(r.Header.StoredLength < 96 || r.Header.Type == RecordType.Summary));
        var call = MessageCodec.Read(log[2].Header, GoldenVectorSet.Payload(log[2].Record)).ToolCalls![0]!;
        Assert.Equal("get_weather", (string?)call["function"]!["name"]);
        Assert.Equal("{\"city\":\"Oslo\"}", (string?)call["function"]!["arguments"]);

        // Every record that is not a Message carries its session's last sequence, a SessionDelete too.
        Assert.Equal([(RecordType.Summary, 5L), (RecordType.Evict, 5L), (RecordType.SessionState, 5L)], log.Skip(6).Take(3).Select(r => (r.Header.Type, r.Header.Sequence)));
        Assert.Equal((RecordType.SessionDelete, 1L, 0u), (log[11].Header.Type, log[11].Header.Sequence, log[11].Header.StoredLength));
        Assert.Equal([1L, 2L, 3L], EvictCodec.Read(GoldenVectorSet.Payload(log[7].Record)));
        Assert.Equal(new byte[] { 3, 1, 1, 1 }, GoldenVectorSet.Payload(log[7].Record));

        // The segment holds session A's records (LSN 1 to 9) back to back after its header.
        var segment = Read(GoldenVectorSet.SegmentFile);
        Assert.Equal(log.Take(9).Select(r => r.Record), Records(segment).Select(r => r.Record));
        Assert.Equal(0x2aUL, BinaryPrimitives.ReadUInt64LittleEndian(segment.AsSpan(16)));

        // The pack (kind 4, owner = pack 1) holds session A's group: an opening record (LSN 0, no counters, the
        // newest state with its last sequence 5), then the live records byte for byte as the log has them:
        // messages 4 and 5 and the summary (LSNs 5, 6, 7).
        var pack = Read(GoldenVectorSet.PackFile);
        Assert.Equal(4, pack[6]);
        Assert.Equal(1UL, BinaryPrimitives.ReadUInt64LittleEndian(pack.AsSpan(16)));
        var group = Records(pack).ToList();
        var opening = HeaderOf(group[0].Record);
        Assert.Equal((RecordType.SessionState, 0UL, 5L, GoldenVectorSet.SessionA), (opening.Type, opening.Lsn, opening.Sequence, opening.Session));
        var openingState = StateCodec.Read(GoldenVectorSet.Payload(group[0].Record));
        Assert.Equal((0, 0L, 5L, 3L, "golden-a"), (openingState.LiveMessages, openingState.LiveTokens, openingState.LastSequence, openingState.SummarizedThrough, openingState.Metadata.SessionId));
        Assert.Equal(new ulong[] { 5, 6, 7 }.Select(n => log[(int)n - 1].Record), group.Skip(1).Select(r => r.Record));

        // The packed index names no segment of A, its group (pack 1, from 32 to the end, next segment 1), and
        // message entries in the pack (flag bit 0, segment field = pack number 1).
        var packed = Describe(GoldenVectorSet.PackedIndexFile, Read(GoldenVectorSet.PackedIndexFile));
        var entries = packed["leaf"]!["entries"]!.AsArray();
        var record = entries.Single(e => (string?)e!["space"] == "S")!["session_record"]!;
        Assert.Empty(record["segments"]!.AsArray());
        var g = record["pack_group"]!;
        Assert.Equal((1u, 32L, (long)pack.Length - 32, 1u), ((uint)g["pack"]!, (long)g["offset"]!, (long)g["length"]!, (uint)g["next_segment"]!));
        Assert.All(entries.Where(e => (string?)e!["space"] == "M"), e =>
        {
            var value = Convert.FromHexString((string)e!["value"]!);
            Assert.Equal((1, 1), (value[^3], value[^1] & 1)); // segment field 1, flag bit 0
            Assert.True((bool)e["message_entry"]!["in_pack"]!);
        });
        var w = entries.Single(e => (string?)e!["space"] == "W")!["pack"]!;
        Assert.Equal(((long)pack.Length, (long)pack.Length - 32, 0), ((long)w["length"]!, (long)w["live"]!, w["erase"]!.AsArray().Count));
    }

    private static RecordHeader HeaderOf(byte[] record) => RecordHeader.TryRead(record, out var h, out _) ? h : throw new InvalidDataException("bad header");

    private static IEnumerable<(long Offset, byte[] Record)> Records(byte[] file)
    {
        var at = FileHeader.Size;
        while (at < file.Length)
        {
            if (!RecordCodec.Verify(file.AsSpan(at), out var h))
            {
                throw new InvalidDataException($"Record at {at} does not verify.");
            }
            yield return (at, file.AsSpan(at, h.TotalLength).ToArray());
            at += h.TotalLength;
        }
    }

    /// <summary>The decoded content of a vector, as the expected-content files hold it.</summary>
    private static JsonObject Describe(string name, byte[] bytes) => IsIndex(name) ? DescribeIndex(bytes) : DescribeRecords(name, bytes);

    private static JsonObject DescribeRecords(string name, byte[] bytes)
    {
        FileHeader.TryRead(bytes, KindOf(name), out var fh);
        var records = new JsonArray();
        foreach (var (offset, record) in Records(bytes))
        {
            var h = HeaderOf(record);
            var payload = GoldenVectorSet.Payload(record);
            records.Add(new JsonObject
            {
                ["offset"] = offset,
                ["length"] = record.Length,
                ["type"] = h.Type.ToString(),
                ["lz4"] = (h.Flags & RecordFlags.Lz4) != 0,
                ["has_calls"] = (h.Flags & RecordFlags.HasCalls) != 0,
                ["stored_length"] = h.StoredLength,
                ["raw_length"] = h.RawLength,
                ["session"] = h.Session,
                ["lsn"] = h.Lsn,
                ["sequence"] = h.Sequence,
                ["time"] = Time(h.TimeTicks),
                ["written"] = Time(h.WrittenTicks),
                ["role"] = h.Role,
                ["tokens"] = h.Tokens,
                ["payload"] = DescribePayload(h, payload),
            });
        }
        return new JsonObject
        {
            ["file_header"] = new JsonObject { ["kind"] = (int)fh.Kind, ["version"] = fh.Version, ["owner"] = fh.Owner, ["sequence"] = fh.Sequence },
            ["records"] = records,
        };
    }

    private static JsonNode DescribePayload(in RecordHeader h, byte[] payload)
    {
        switch (h.Type)
        {
            case RecordType.Message:
                var m = MessageCodec.Read(h, payload);
                return new JsonObject
                {
                    ["message_id"] = m.MessageId,
                    ["content"] = m.Content,
                    ["metadata"] = m.Metadata.Count == 0 ? null : m.Metadata.DeepClone(),
                    ["function_call"] = m.FunctionCall?.DeepClone(),
                    ["tool_calls"] = m.ToolCalls?.DeepClone(),
                };
            case RecordType.SessionState:
                var s = StateCodec.Read(payload);
                var meta = s.Metadata;
                return new JsonObject
                {
                    ["version"] = payload[0],
                    ["session_id"] = meta.SessionId,
                    ["user_id"] = meta.UserId,
                    ["created"] = Time(meta.CreatedAt.UtcTicks),
                    ["updated"] = Time(meta.UpdatedAt.UtcTicks),
                    ["status"] = (int)meta.Status,
                    ["max_messages"] = meta.MaxMessages,
                    ["max_tokens"] = meta.MaxTokens,
                    ["auto_summarize_threshold"] = meta.AutoSummarizeThreshold,
                    ["summary_strategy"] = (int)meta.SummaryStrategy,
                    ["metadata"] = meta.Metadata.Count == 0 ? null : meta.Metadata.DeepClone(),
                    ["last_sequence"] = s.LastSequence,
                    ["live_messages"] = s.LiveMessages,
                    ["live_tokens"] = s.LiveTokens,
                    ["summarized_through"] = s.SummarizedThrough,
                    ["eviction_low_water"] = meta.EvictionLowWater,
                };
            case RecordType.Summary:
                var y = SummaryCodec.Read(payload, string.Empty);
                return new JsonObject
                {
                    ["summary_id"] = y.SummaryId,
                    ["text"] = y.SummaryText,
                    ["message_count"] = y.MessageCount,
                    ["token_count"] = y.TokenCount,
                    ["created"] = Time(y.CreatedAt.UtcTicks),
                    ["summary_type"] = (int)y.SummaryType,
                    ["first_sequence"] = y.FirstSequence,
                    ["last_sequence"] = y.LastSequence,
                };
            case RecordType.Evict:
                return new JsonObject { ["sequences"] = new JsonArray([.. EvictCodec.Read(payload).Select(x => (JsonNode)x)]) };
            default:
                return new JsonObject();
        }
    }

    private static JsonObject DescribeIndex(byte[] file)
    {
        var metas = new JsonArray();
        for (uint slot = 0; slot < 2; slot++)
        {
            var m = BTreeMeta.TryRead(file.AsSpan((int)slot * BTreePageHeader.PageSize, BTreePageHeader.PageSize), slot, out _)!.Value;
            metas.Add(new JsonObject
            {
                ["page"] = slot,
                ["txid"] = m.TxId,
                ["root"] = m.Root,
                ["free_list"] = m.FreeList,
                ["page_count"] = m.PageCount,
                ["entry_count"] = m.EntryCount,
                ["covered_lsn"] = m.User0,
                ["next_lsn"] = m.User1,
                ["next_session"] = m.User2,
                ["key_id"] = m.KeyId,
                ["key_check"] = m.KeyCheck,
            });
        }
        var page = file.AsSpan(2 * BTreePageHeader.PageSize, BTreePageHeader.PageSize);
        BTreePageHeader.TryRead(page, 2, out var h);
        var leaf = Node.Decode(page, h, 3);
        var entries = new JsonArray();
        for (var i = 0; i < leaf.Keys.Count; i++)
        {
            var key = leaf.Keys[i];
            var value = leaf.Values[i].Inline!;
            var e = new JsonObject { ["space"] = ((char)key[0]).ToString(), ["key"] = Convert.ToHexString(key), ["value"] = Convert.ToHexString(value) };
            switch (key[0])
            {
                case IndexKeys.Message:
                    var me = SessionRecord.DecodeMessage(IndexKeys.SequenceOf(key), value);
                    e["message_entry"] = new JsonObject
                    {
                        ["sequence"] = me.Sequence,
                        ["time"] = Time(me.TimeTicks),
                        ["offset"] = me.Offset,
                        ["length"] = me.Length,
                        ["tokens"] = me.Tokens,
                        ["segment"] = Log.PackFiles.NumberOf(me.Segment),
                        ["in_pack"] = Log.PackFiles.IsPack(me.Segment),
                        ["role"] = me.Role,
                        ["flags"] = me.Flags,
                    };
                    break;
                case IndexKeys.Session:
                    var se = SessionRecord.Read(IndexKeys.NumberOf(key), value, null!, out var messages, out var summaries);
                    e["session_record"] = new JsonObject
                    {
                        ["last_lsn"] = se.LastLsn,
                        ["dead_bytes"] = se.DeadBytes,
                        ["last_state_length"] = se.LastStateLength,
                        ["cold"] = se.Cold,
                        ["messages"] = messages,
                        ["summaries"] = summaries,
                        ["segments"] = new JsonArray([.. se.Segments.Select(x => (JsonNode)new JsonObject { ["segment"] = x.Segment, ["length"] = x.Length })]),
                        ["session_id"] = se.State.Metadata.SessionId,
                    };
                    if (se.Pack is { } g)
                    {
                        e["session_record"]!["pack_group"] = new JsonObject { ["pack"] = g.Pack, ["offset"] = g.Offset, ["length"] = g.Length, ["next_segment"] = g.NextSegment };
                    }
                    break;
                case IndexKeys.Packs:
                    var pi = PackImage.Read(IndexKeys.PackOf(key), value);
                    e["pack"] = new JsonObject
                    {
                        ["number"] = IndexKeys.PackOf(key),
                        ["length"] = pi.Length,
                        ["live"] = pi.Live,
                        ["erase"] = new JsonArray([.. pi.Erase.Select(x => (JsonNode)new JsonObject { ["offset"] = x.Offset, ["length"] = x.Length })]),
                    };
                    break;
                case IndexKeys.Totals:
                    var t = StoreTotals.Decode(value);
                    e["totals"] = new JsonObject
                    {
                        ["sessions"] = t.Sessions,
                        ["active"] = t.Active,
                        ["archived"] = t.Archived,
                        ["messages"] = t.Messages,
                        ["summaries"] = t.Summaries,
                        ["dead_bytes"] = t.DeadBytes,
                        ["segments"] = t.Segments,
                        ["segment_bytes"] = t.SegmentBytes,
                        ["cold"] = t.Cold,
                    };
                    break;
            }
            entries.Add(e);
        }
        return new JsonObject
        {
            ["meta"] = metas,
            ["leaf"] = new JsonObject { ["page"] = h.PageNumber, ["txid"] = h.TxId, ["count"] = h.Count, ["entries"] = entries },
        };
    }

    private static string Time(long ticks) => new DateTimeOffset(ticks, TimeSpan.Zero).ToString("O", System.Globalization.CultureInfo.InvariantCulture);

    private static int FirstDifference(byte[] a, byte[] b)
    {
        var n = a.AsSpan().CommonPrefixLength(b);
        return n;
    }

    private static string SourceDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
