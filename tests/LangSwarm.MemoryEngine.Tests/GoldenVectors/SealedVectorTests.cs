using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Format.Codecs;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests.GoldenVectors;

/// <summary>
/// The sealed golden vectors of FORMAT.md appendix A (§13): a segment and an index file the engine wrote with the
/// key whose bytes are 1..32. Each seal is checked with AES-256-GCM and HMAC-SHA256 computed here from the
/// specification's words alone, not through the engine's cipher, and the decoded content against its
/// <c>.expected.json</c>. Nonces are random, so the files are written once (<c>LSMEM_WRITE_GOLDEN_VECTORS=1</c>) and
/// kept, not rebuilt.
/// </summary>
public sealed class SealedVectorTests
{
    private const string SegmentFile = "sealed-segment.seg";
    private const string IndexFile = "sealed-index.btree";

    private static readonly byte[] KeyBytes = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Committed(string name) => Path.Combine(AppContext.BaseDirectory, "GoldenVectors", name);

    [Fact]
    public async Task TheSealedVectors_OpenBySpecificationAlone_AndDecodeToTheirExpectedContent()
    {
        if (Environment.GetEnvironmentVariable("LSMEM_WRITE_GOLDEN_VECTORS") == "1")
        {
            await WriteAsync();
        }
        foreach (var name in new[] { SegmentFile, IndexFile })
        {
            var bytes = File.ReadAllBytes(Committed(name));
            var described = name == SegmentFile ? DescribeSegment(bytes) : DescribeIndex(bytes);
            var expected = JsonNode.Parse(File.ReadAllText(Committed(name + ".expected.json")));
            Assert.True(JsonNode.DeepEquals(expected, described), $"{name} decodes to\n{described.ToJsonString(Indented)}");
        }
    }

    [Fact]
    public void KeyIdAndCheck_AreTheHmacOfTheFixedText()
    {
        var mac = HMACSHA256.HashData(KeyBytes, Encoding.ASCII.GetBytes("LangSwarm.MemoryEngine key id v1"));
        Assert.Equal(BinaryPrimitives.ReadUInt32LittleEndian(mac), TestKeys.A.Id);
        Assert.Equal(BinaryPrimitives.ReadUInt64LittleEndian(mac.AsSpan(4)), TestKeys.A.Check);
    }

    /// <summary>Every record: its header fields, then its payload opened with AES-GCM as §13.1 says.</summary>
    private static JsonObject DescribeSegment(byte[] file)
    {
        var records = new JsonArray();
        for (var at = FileHeader.Size; at < file.Length;)
        {
            var record = file.AsSpan(at);
            Assert.Equal(BinaryPrimitives.ReadUInt32LittleEndian(record), Crc32C.Compute(record[4..(RecordHeader.Size + (int)BinaryPrimitives.ReadUInt32LittleEndian(record[8..]))]));
            var flags = record[7];
            var stored = (int)BinaryPrimitives.ReadUInt32LittleEndian(record[8..]);
            var raw = (int)BinaryPrimitives.ReadUInt32LittleEndian(record[12..]);
            Assert.Equal(4, flags & 4); // every record a writer with a key writes is sealed
            var envelope = record.Slice(RecordHeader.Size, stored);
            var inner = new byte[stored - 32];
            using (var aes = new AesGcm(KeyBytes, 16))
            {
                aes.Decrypt(envelope.Slice(4, 12), envelope[16..^16], envelope[^16..], inner, record[4..RecordHeader.Size]);
            }
            var payload = (flags & 1) != 0 ? Lz4(inner, raw) : inner;
            Assert.True(RecordHeader.TryRead(record, out var h, out _));
            var type = (RecordType)record[6];
            var entry = new JsonObject
            {
                ["offset"] = at,
                ["type"] = type.ToString(),
                ["lz4"] = (flags & 1) != 0,
                ["key_id"] = BinaryPrimitives.ReadUInt32LittleEndian(envelope),
                ["session"] = BinaryPrimitives.ReadUInt64LittleEndian(record[16..]),
                ["lsn"] = BinaryPrimitives.ReadUInt64LittleEndian(record[24..]),
                ["sequence"] = BinaryPrimitives.ReadInt64LittleEndian(record[32..]),
                ["raw_length"] = raw,
            };
            if (type == RecordType.Message)
            {
                entry["content"] = MessageCodec.Read(h, payload).Content;
            }
            else if (type == RecordType.SessionState)
            {
                entry["session_id"] = StateCodec.Read(payload).Metadata.SessionId;
            }
            records.Add(entry);
            at += RecordHeader.Size + stored;
        }
        return new JsonObject { ["key_id"] = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(12)), ["version"] = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(8)), ["records"] = records };
    }

    /// <summary>The meta pages' key fields, and every sealed page opened with AES-GCM as §13.2 says (checked to parse).</summary>
    private static JsonObject DescribeIndex(byte[] file)
    {
        var metas = new JsonArray();
        var sealedPages = new JsonArray();
        for (var p = 0; p * BTreePageHeader.PageSize < file.Length; p++)
        {
            var page = file.AsSpan(p * BTreePageHeader.PageSize, BTreePageHeader.PageSize).ToArray();
            Assert.Equal(BinaryPrimitives.ReadUInt32LittleEndian(page), Crc32C.Compute(page.AsSpan(4)));
            if (p < 2)
            {
                metas.Add(new JsonObject
                {
                    ["page"] = p,
                    ["version"] = BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(32)),
                    ["key_id"] = BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(52)),
                    ["key_check"] = BinaryPrimitives.ReadUInt64LittleEndian(page.AsSpan(88)),
                });
                continue;
            }
            Assert.Equal(1, page[5]);
            var body = new byte[4040];
            using (var aes = new AesGcm(KeyBytes, 16))
            {
                aes.Decrypt(page.AsSpan(4068, 12), page.AsSpan(24, 4040), page.AsSpan(4080, 16), body, page.AsSpan(4, 20));
            }
            sealedPages.Add(new JsonObject
            {
                ["page"] = p,
                ["type"] = ((BTreePageType)page[4]).ToString(),
                ["count"] = BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(6)),
                ["key_id"] = BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(4064)),
                ["ends_in_zeros"] = body.AsSpan(3000).IndexOfAnyExcept((byte)0) < 0,
            });
        }
        return new JsonObject { ["meta"] = metas, ["sealed_pages"] = sealedPages };
    }

    private static byte[] Lz4(byte[] block, int raw)
    {
        var output = new byte[raw];
        Assert.Equal(raw, K4os.Compression.LZ4.LZ4Codec.Decode(block, output));
        return output;
    }

    /// <summary>Writes the two files from a store the engine fills with a fixed conversation under key A.</summary>
    private static async Task WriteAsync()
    {
        using var dir = new TempStore();
        await using (var backend = new EngineBackend(new EngineOptions { Path = dir.Path, Encryption = TestKeys.Provider }))
        {
            await backend.ConnectAsync();
            var session = await backend.CreateSessionAsync(new SessionMetadata("sealed-a", "user-1") { SummaryStrategy = SummaryStrategy.Manual });
            await session.AddMessageAsync(new Message(MessageRole.User, "hello, sealed world"));
            await session.AddMessageAsync(new Message(MessageRole.Assistant, "A longer reply that LZ4 compresses: " + string.Concat(Enumerable.Repeat("the same words again, ", 8))));
        }
        var source = SourceDirectory();
        var segment = Directory.EnumerateFiles(Path.Combine(dir.Path, "seg")).Single();
        File.Copy(segment, Path.Combine(source, SegmentFile), overwrite: true);
        File.Copy(Path.Combine(dir.Path, "index.btree"), Path.Combine(source, IndexFile), overwrite: true);
        File.WriteAllText(Path.Combine(source, SegmentFile + ".expected.json"), DescribeSegment(File.ReadAllBytes(segment)).ToJsonString(Indented) + "\n");
        File.WriteAllText(Path.Combine(source, IndexFile + ".expected.json"), DescribeIndex(File.ReadAllBytes(Path.Combine(dir.Path, "index.btree"))).ToJsonString(Indented) + "\n");
    }

    private static string SourceDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
