using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using K4os.Compression.LZ4;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format.Codecs;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;

namespace LangSwarm.MemoryEngine.Fuzz;

/// <summary>Seed inputs for each target, made from real encoded records and a real store.</summary>
public static class Seeds
{
    /// <summary>The seeds of <paramref name="target"/>, by file name.</summary>
    public static IReadOnlyList<(string Name, byte[] Bytes)> For(string target) => target switch
    {
        "record" => RecordSeeds(),
        "scan" => ScanSeeds(),
        "index" => IndexSeeds(),
        "store" => StoreSeeds(),
        "json" => JsonSeeds(),
        "record-sealed" => SealedRecordSeeds(),
        "index-sealed" => SealedIndexSeeds(),
        "store-sealed" => SealedStoreSeeds(),
        _ => throw new ArgumentException($"Unknown target '{target}'.", nameof(target)),
    };

    private static List<(string, byte[])> RecordSeeds()
    {
        var list = new List<(string, byte[])>();
        foreach (var (name, record) in Records())
        {
            list.Add(($"{name}.bin", [0, .. record]));
            list.Add(($"{name}-fixcrc.bin", [1, .. record]));
        }
        return list;
    }

    /// <summary>
    /// The records of <see cref="Records()"/> sealed with the test key: mode 0 (as is, with the key), 1 (checksum
    /// recomputed), 3 (checksum recomputed, no key) and 5 (checksum recomputed, the wrong key).
    /// </summary>
    private static List<(string, byte[])> SealedRecordSeeds()
    {
        var list = new List<(string, byte[])>();
        foreach (var (name, record) in SealedRecords.Value)
        {
            list.Add(($"{name}.bin", [0, .. record]));
            list.Add(($"{name}-fixcrc.bin", [1, .. record]));
        }
        foreach (var (name, record) in SealedRecords.Value.Take(2))
        {
            list.Add(($"{name}-nokey.bin", [3, .. record]));
            list.Add(($"{name}-wrongkey.bin", [5, .. record]));
        }
        return list;
    }

    private static readonly Lazy<List<(string Name, byte[] Record)>> SealedRecords = new(() => Records(Sealing.Cipher));

    /// <summary>Header bytes 4..63 and raw payload of every record the test key sealed as a seed (hex, joined).</summary>
    private static readonly Lazy<HashSet<string>> Authentic = new(() =>
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (_, record) in SealedRecords.Value)
        {
            RecordCodec.Verify(record, out var h);
            var n = RecordCodec.DecodePayload(record, h, Sealing.Cipher, out var buffer);
            set.Add(AuthenticKey(record.AsSpan(4, RecordHeader.Size - 4), buffer.AsSpan(0, n)));
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return set;
    });

    /// <summary>
    /// True when a header (bytes 4..63) and an opened payload are those of a record the test key sealed as a seed
    /// (whatever its nonce: the seeds are sealed again, under fresh nonces, in every process).
    /// </summary>
    internal static bool IsAuthenticSealed(ReadOnlySpan<byte> header4To64, ReadOnlySpan<byte> payload) =>
        Authentic.Value.Contains(AuthenticKey(header4To64, payload));

    private static string AuthenticKey(ReadOnlySpan<byte> header4To64, ReadOnlySpan<byte> payload) =>
        Convert.ToHexString(header4To64) + ":" + Convert.ToHexString(payload);

    private static List<(string, byte[])> SealedIndexSeeds()
    {
        var file = StoreTarget.SealedBaseFiles[IndexFile.FileName];
        return
        [
            ("file.bin", [0, .. file]),
            ("file-fixcrc.bin", [1, .. file]),
            ("file-nokey.bin", [2, .. file]),
            ("file-fixcrc-nokey.bin", [3, .. file]),
            ("file-noopen.bin", [5, .. file]),
        ];
    }

    /// <summary>
    /// The programs of <c>store</c> after a key mode byte (0: the key, 1: no key, 2: the wrong key), and forgeries
    /// aimed at the seals: a sealed record's header field, key id, nonce, ciphertext or tag changed and its checksum
    /// recomputed; a sealed index page changed and every page checksum recomputed.
    /// </summary>
    private static List<(string, byte[])> SealedStoreSeeds()
    {
        var list = StoreSeeds().Select(s => ((string)s.Item1, (byte[])[0, .. s.Item2])).ToList();
        list.Add(("intact-nokey.bin", [1]));
        list.Add(("intact-wrongkey.bin", [2]));
        list.Add(("forge-session-nokey.bin", [1, 6, 2, 40, 0, 4, 3]));
        list.Add(("truncate-log-wrongkey.bin", [2, 2, 255, 200, 1, 0, 0]));
        // Op 6 forges a header field (then recomputes the checksum): fields 5 (LSN), 6 (sequence), 7 (time), 10 (tokens),
        // 1 (flags: SEALED cleared), 11 (the first payload byte: the key id), in a segment and in the log.
        list.Add(("forge-lsn.bin", [0, 6, 1, 32, 0, 5, 1]));
        list.Add(("forge-sequence.bin", [0, 6, 1, 40, 0, 6, 1]));
        list.Add(("forge-time-log.bin", [0, 6, 255, 200, 0, 7, 1]));
        list.Add(("forge-tokens.bin", [0, 6, 2, 100, 0, 10, 1]));
        list.Add(("forge-unseal-flag.bin", [0, 6, 1, 32, 0, 1, 4]));
        list.Add(("forge-keyid-log.bin", [0, 6, 255, 200, 0, 11, 1]));
        // Overwrite a byte inside the first sealed payload of the first segment (key id, nonce, ciphertext, tag),
        // then recompute that record's checksum: op 6 twice on one field (role) flips it and back, fixing the CRC.
        var segment = StoreTarget.SealedBaseFiles.First(kv => kv.Key.StartsWith("seg/", StringComparison.Ordinal));
        var segmentIndex = (byte)StoreTarget.SealedBaseFiles.Keys.ToList().IndexOf(segment.Key);
        RecordHeader.TryRead(segment.Value.AsSpan(FileHeader.Size), out var first, out _);
        var envelope = FileHeader.Size + RecordHeader.Size;
        var tag = FileHeader.Size + first.TotalLength - StoreCipher.TagSize;
        foreach (var (name, at) in new[] { ("keyid", envelope), ("nonce", envelope + 6), ("cipher", envelope + 20), ("tag", tag + 3) })
        {
            byte[] fix = [6, segmentIndex, FileHeader.Size, 0, 9, 1];
            list.Add(($"forge-sealed-{name}.bin", [0, 1, segmentIndex, (byte)at, (byte)(at >> 8), 0, 0x5A, .. fix, .. fix]));
        }
        // A sealed index page flipped, every page checksum recomputed (the index is rebuilt from the segments).
        list.Add(("forge-index-page.bin", [0, 0, 0, 0x40, 0x20, 0x10, 0, 7, 0, 0, 0, 0, 0]));
        // The sealed flag cleared on an index page, every page checksum recomputed (ciphertext read as a plain page).
        list.Add(("forge-index-unsealed.bin", [0, 0, 0, 5, 0x20, 0x01, 0, 7, 0, 0, 0, 0, 0]));
        return list;
    }

    private static List<(string, byte[])> ScanSeeds()
    {
        var all = Records().Select(r => r.Record).ToList();
        var joined = all.SelectMany(r => r).ToArray();
        var damaged = joined.ToArray();
        damaged[all[0].Length + 10] ^= 0xFF; // a bad record in the middle
        return
        [
            ("records.bin", joined),
            ("damaged-middle.bin", damaged),
            ("torn-tail.bin", joined.AsSpan(0, joined.Length - 7).ToArray()),
            ("one.bin", all[0]),
        ];
    }

    private static List<(string, byte[])> IndexSeeds()
    {
        var file = StoreTarget.BaseFiles[IndexFile.FileName];
        return
        [
            ("file.bin", [0, .. file]),
            ("file-fixcrc.bin", [1, .. file]),
            ("file-noopen.bin", [5, .. file]),
        ];
    }

    private static List<(string, byte[])> StoreSeeds() =>
    [
        ("intact.bin", []),
        // flip a byte in the first segment's second record
        ("flip-segment.bin", [0, 1, 100, 0, 0x40, 0]),
        // truncate the commit log
        ("truncate-log.bin", [2, 255, 200, 1, 0, 0]),
        // splice the checkpoint over the first segment
        ("splice.bin", [3, 1, 64, 0, 0, 0]),
        // issue 10: a flipped bit in the commit log's header, and in one of its records (the log is resynced)
        ("flip-log-header.bin", [0, 255, 20, 0, 0x10, 0]),
        ("flip-log-record.bin", [0, 255, 200, 0, 0x10, 0]),
        // issue 10: a segment file deleted from a cleanly closed store
        ("delete-segment.bin", [5, 1, 0, 0, 0, 0]),
        // issue 10: a flipped bit in each meta page of the index file (the index is rebuilt from the segments)
        ("flip-meta-0.bin", [0, 0, 100, 0, 0x01, 0]),
        ("flip-meta-1.bin", [0, 0, 0x64, 0x10, 0x01, 0]),
        // forge a record's session number and fix its checksum
        ("forge-session.bin", [6, 2, 40, 0, 4, 3]),
        // delete the checkpoint, then corrupt a segment header and forge its checksum
        ("no-checkpoint.bin", [5, 0, 0, 0, 0, 0, 1, 1, 16, 0, 3, 9, 7, 1, 0, 0, 0, 0]),
    ];

    /// <summary>
    /// JSON at and past the limits, in every encoding trouble: mode byte (0 message metadata, 1 tool_calls,
    /// 2 function_call, 3 session metadata) then the JSON bytes.
    /// </summary>
    private static List<(string, byte[])> JsonSeeds()
    {
        static string Objects(int depth) => string.Concat(Enumerable.Repeat("{\"d\":", depth - 1)) + "{}" + new string('}', depth - 1);
        static string Arrays(int depth) => new string('[', depth) + new string(']', depth);
        static byte[] Seed(byte mode, string json) => [mode, .. Encoding.UTF8.GetBytes(json)];
        static byte[] Raw(byte mode, params byte[] json) => [mode, .. json];
        return
        [
            ("depth-63.bin", Seed(0, Objects(63))),
            ("depth-64.bin", Seed(0, Objects(64))),
            ("depth-65.bin", Seed(0, Objects(65))),
            ("depth-1000.bin", Seed(0, Objects(1000))),
            ("depth-1001.bin", Seed(0, Objects(1001))),
            ("session-depth-64.bin", Seed(3, Objects(64))),
            ("session-depth-65.bin", Seed(3, Objects(65))),
            ("tool-calls-depth-64.bin", Seed(1, "[{\"function\":{\"name\":\"f\"},\"x\":" + Objects(62) + "}]")),
            ("tool-calls-depth-65.bin", Seed(1, "[{\"function\":{\"name\":\"f\"},\"x\":" + Objects(63) + "}]")),
            ("arrays-depth-65.bin", Seed(0, "{\"a\":" + Arrays(64) + "}")),
            ("function-call-depth-65.bin", Seed(2, "{\"name\":\"f\",\"arguments\":" + Objects(64) + "}")),
            ("lone-surrogate-value.bin", Seed(0, "{\"k\":\"a\\ud800b\"}")),
            ("lone-surrogate-key.bin", Seed(0, "{\"\\udc00\":1}")),
            ("lone-surrogate-reversed.bin", Seed(3, "{\"k\":\"\\udc00\\ud800\"}")),
            ("lone-surrogate-tool-name.bin", Seed(1, "[{\"id\":\"c\",\"type\":\"function\",\"function\":{\"name\":\"\\ud83d\",\"arguments\":\"{}\"}}]")),
            ("surrogate-pair.bin", Seed(0, "{\"k\":\"\\ud83d\\ude00 and \\\\ud800 as text\"}")),
            ("overlong-utf8.bin", Raw(0, [.. "{\"k\":\""u8, 0xC0, 0x80, .. "\"}"u8])),
            ("invalid-utf8.bin", Raw(0, [.. "{\"k\":\""u8, 0xFF, 0xFE, .. "\"}"u8])),
            ("cesu-surrogate-utf8.bin", Raw(3, [.. "{\"k\":\""u8, 0xED, 0xA0, 0x80, .. "\"}"u8])),
            ("duplicate-keys.bin", Seed(0, "{\"a\":1,\"a\":2}")),
            ("tool-calls-number.bin", Seed(1, "[1]")),
            ("tool-calls-numeric-name.bin", Seed(1, "[{\"id\":\"c\",\"type\":\"function\",\"function\":{\"name\":5,\"arguments\":\"{}\"}}]")),
            ("function-call-object-name.bin", Seed(2, "{\"name\":{\"a\":1},\"arguments\":\"{}\"}")),
            ("tool-calls-valid.bin", Seed(1, "[{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]")),
            ("function-call-valid.bin", Seed(2, "{\"name\":\"f\",\"arguments\":{\"q\":[1,2.5,null,true]}}")),
            ("numbers.bin", Seed(0, "{\"big\":1e400,\"neg\":-0,\"exp\":1.5E-7,\"long\":123456789012345678901234567890}")),
        ];
    }

    /// <summary>One encoded record of each kind (raw and LZ4).</summary>
    public static List<(string Name, byte[] Record)> Records() => Records(null);

    /// <summary>One encoded record of each kind (raw and LZ4), sealed with <paramref name="cipher"/> when given.</summary>
    internal static List<(string Name, byte[] Record)> Records(StoreCipher? cipher)
    {
        var t = new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var list = new List<(string, byte[])>();
        void Add(string name, RecordHeader h, Action<IBufferWriter<byte>> write)
        {
            var payload = new ArrayBufferWriter<byte>();
            write(payload);
            var output = new ArrayBufferWriter<byte>();
            RecordCodec.Encode(output, h with { Lsn = (ulong)list.Count + 1 }, payload.WrittenSpan, cipher: cipher);
            list.Add((name, output.WrittenSpan.ToArray()));
        }
        var small = new Message(MessageRole.User, "hello") { MessageId = "m1", Timestamp = t, Sequence = 1, TokenCount = 2 };
        var big = new Message(MessageRole.Assistant, string.Concat(Enumerable.Repeat("compressible reply ", 20)))
        {
            MessageId = "m2",
            Timestamp = t,
            Sequence = 2,
            Metadata = new JsonObject { ["k"] = 1 },
            ToolCalls = [new JsonObject { ["name"] = "f" }],
        };
        Add("message", MessageCodec.Header(7, small, t.UtcTicks), o => MessageCodec.Write(o, small));
        Add("message-lz4", MessageCodec.Header(7, big, t.UtcTicks), o => MessageCodec.Write(o, big));
        var state = new SessionState(new SessionMetadata { SessionId = "s1", UserId = "u", CreatedAt = t, UpdatedAt = t, Metadata = new JsonObject { ["a"] = "b" } }) { LastSequence = 2, LiveMessages = 2, LiveTokens = 9 };
        Add("state", new RecordHeader(RecordType.SessionState, 0, 0, 0, 7, 0, 2, t.UtcTicks, t.UtcTicks, 0, 0), o => StateCodec.Write(o, state));
        var summary = new ConversationSummary { SummaryId = "sum1", SessionId = "s1", SummaryText = "a summary", MessageCount = 2, TokenCount = 5, CreatedAt = t, FirstSequence = 1, LastSequence = 2 };
        Add("summary", new RecordHeader(RecordType.Summary, 0, 0, 0, 7, 0, 2, t.UtcTicks, t.UtcTicks, 0, 0), o => SummaryCodec.Write(o, summary));
        Add("evict", new RecordHeader(RecordType.Evict, 0, 0, 0, 7, 0, 2, t.UtcTicks, t.UtcTicks, 0, 0), o => EvictCodec.Write(o, [1, 2, 300]));
        Add("delete", new RecordHeader(RecordType.SessionDelete, 0, 0, 0, 7, 0, 0, t.UtcTicks, t.UtcTicks, 0, 0), _ => { });
        return list;
    }

    /// <summary>Writes every target's seeds under <paramref name="root"/>/&lt;target&gt;/ (regression files already there are kept).</summary>
    public static void WriteAll(string root)
    {
        foreach (var target in Targets.Names)
        {
            var dir = Path.Combine(root, target);
            Directory.CreateDirectory(dir);
            foreach (var (name, bytes) in For(target))
            {
                File.WriteAllBytes(Path.Combine(dir, name), bytes);
            }
            Console.WriteLine($"{target}: {For(target).Count} seeds in {dir}");
        }
    }

    /// <summary>The corpus files of <paramref name="target"/> under <paramref name="root"/>, sorted by name.</summary>
    public static List<(string Name, byte[] Bytes)> Load(string? root, string target)
    {
        var dir = root is null ? null : Path.Combine(root, target);
        if (dir is null || !Directory.Exists(dir))
        {
            return [];
        }
        return Directory.GetFiles(dir).Order(StringComparer.Ordinal).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToList();
    }

    /// <summary>Finds <c>fuzz/corpus</c> above the working directory or the program's directory.</summary>
    public static string? FindCorpus()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "fuzz", "corpus");
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }
            }
        }
        return null;
    }
}
