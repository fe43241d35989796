using System.Buffers;
using System.Buffers.Binary;
using K4os.Compression.LZ4;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Log;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests.GoldenVectors;

/// <summary>
/// Rules of FORMAT.md that the two sides once disagreed on (the compression threshold, the sequence of a
/// SessionDelete), the varint tenth-byte rule, and that the commit-log vector is a log a store replays.
/// </summary>
public sealed class FormatRulesTests
{
    /// <summary>
    /// §4 compression rule: the LZ4 form is kept only when it saves strictly more than ⌊raw/16⌋ bytes. Payloads
    /// are searched (deterministically) for LZ4 outputs exactly at and one byte below the limit.
    /// </summary>
    [Fact]
    public void Lz4IsKept_OnlyWhenItSavesMoreThanOneSixteenth()
    {
        var noise = new byte[1024];
        new Random(7).NextBytes(noise);
        var target = new byte[LZ4Codec.MaximumOutputSize(noise.Length)];
        bool atLimit = false, belowLimit = false;
        for (var raw = RecordCodec.CompressionThreshold; raw <= 600 && !(atLimit && belowLimit); raw++)
        {
            var limit = raw - (raw >> 4);
            for (var k = 0; k <= raw; k++)
            {
                // k incompressible bytes, then zeros: the LZ4 size grows with k about one byte a step.
                var payload = new byte[raw];
                noise.AsSpan(0, k).CopyTo(payload);
                var n = LZ4Codec.Encode(payload, target, LZ4Level.L00_FAST);
                if (n != limit && n != limit - 1)
                {
                    continue;
                }
                foreach (var fast in new Lz4FastEncoder?[] { null, new Lz4FastEncoder() })
                {
                    var output = new ArrayBufferWriter<byte>();
                    RecordCodec.Encode(output, new RecordHeader(RecordType.Message, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0), payload, LZ4Level.L00_FAST, allowCompression: true, seal: true, fast);
                    Assert.True(RecordCodec.Verify(output.WrittenSpan, out var h));
                    Assert.Equal((uint)raw, h.RawLength);
                    if (n == limit)
                    {
                        Assert.Equal((RecordFlags.None, (uint)raw), (h.Flags, h.StoredLength)); // saves exactly ⌊raw/16⌋: stored raw
                        atLimit = true;
                    }
                    else
                    {
                        Assert.Equal((RecordFlags.Lz4, (uint)n), (h.Flags, h.StoredLength)); // saves one byte more: compressed
                        belowLimit = true;
                    }
                }
            }
        }
        Assert.True(atLimit && belowLimit, "no payload met the limit exactly; widen the search");
    }

    /// <summary>Below the threshold nothing is compressed, however well it would compress.</summary>
    [Fact]
    public void PayloadsBelow96Bytes_AreStoredRaw()
    {
        var output = new ArrayBufferWriter<byte>();
        RecordCodec.Encode(output, new RecordHeader(RecordType.Message, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0), new byte[RecordCodec.CompressionThreshold - 1]);
        Assert.True(RecordCodec.Verify(output.WrittenSpan, out var h));
        Assert.Equal((RecordFlags.None, 95u, 95u), (h.Flags, h.StoredLength, h.RawLength));
    }

    /// <summary>§2: a tenth varint byte holds bit 63 only; 0 and 1 read, anything above is refused by both readers.</summary>
    [Theory]
    [InlineData(0x00, true)]
    [InlineData(0x01, true)]
    [InlineData(0x02, false)]
    [InlineData(0x7F, false)]
    [InlineData(0x81, false)]
    public void TenthVarintByte_HoldsBit63Only(byte tenth, bool valid)
    {
        byte[] bytes = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, tenth, 0x00];
        var at = 0;
        Assert.Equal(valid, Varint.TryRead(bytes, ref at, Varint.MaxLength, out var indexValue));
        ulong? payloadValue;
        try
        {
            payloadValue = new PayloadReader(bytes).ReadVarint();
        }
        catch (InvalidDataException)
        {
            payloadValue = null;
        }
        Assert.Equal(valid, payloadValue is not null);
        if (valid)
        {
            var expected = tenth == 1 ? ulong.MaxValue : long.MaxValue;
            Assert.Equal((expected, expected), (indexValue, payloadValue!.Value));
        }
    }

    [Fact]
    public void Varint_WritersUseTheShortestForm_AndUlongMaxTakesTenBytes()
    {
        Span<byte> buffer = stackalloc byte[Varint.MaxLength];
        Assert.Equal(10, Varint.Write(buffer, ulong.MaxValue));
        Assert.Equal(0x01, buffer[9]);
        var output = new ArrayBufferWriter<byte>();
        new PayloadWriter(output).WriteVarint(300);
        Assert.Equal(new byte[] { 0xAC, 0x02 }, output.WrittenSpan.ToArray());
        Assert.Equal(1, Varint.Write(buffer, 127));
        Assert.Equal(2, Varint.Write(buffer, 128));
    }

    /// <summary>Conventions: the CRC is CRC-32C, whose check value (of "123456789") is 0xE3069283.</summary>
    [Fact]
    public void Crc_IsCrc32C() => Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));

    /// <summary>§2.3: JSON fields are compact text, escaped as the spec lists (the golden vectors' escaping).</summary>
    [Fact]
    public void JsonFields_AreCompact_AndEscapedAsTheSpecSays()
    {
        var node = new System.Text.Json.Nodes.JsonObject
        {
            ["k"] = "\"&'+<>`\\\b\t\n\f\r\u0001\u007F\u00E9\U0001F600 a~",
            ["n"] = new System.Text.Json.Nodes.JsonArray(1, 2.5, true, null),
        };
        var output = new ArrayBufferWriter<byte>();
        new PayloadWriter(output).WriteJson(node);
        var expected = """{"k":"\u0022\u0026\u0027\u002B\u003C\u003E\u0060\\\b\t\n\f\r\u0001\u007F\u00E9\uD83D\uDE00 a~","n":[1,2.5,true,null]}"""u8;
        var reader = new PayloadReader(output.WrittenSpan);
        Assert.Equal((ulong)expected.Length + 1, reader.ReadVarint());
        Assert.Equal(System.Text.Encoding.UTF8.GetString(expected), System.Text.Encoding.UTF8.GetString(output.WrittenSpan[^expected.Length..]));
    }

    /// <summary>§4: a SessionDelete carries the session's last sequence, like every record that is not a Message.</summary>
    [Fact]
    public async Task SessionDelete_CarriesTheSessionsLastSequence()
    {
        using var dir = new TempStore();
        await using var backend = new EngineBackend(dir.Path);
        await backend.ConnectAsync();
        var s = await backend.CreateSessionAsync(new SessionMetadata("gone", "u") { SummaryStrategy = SummaryStrategy.Manual });
        for (var i = 0; i < 3; i++)
        {
            await s.AddMessageAsync(new Message(MessageRole.User, $"m{i}") { TokenCount = 1 });
        }
        await backend.DeleteSessionAsync("gone");
        var deletes = new List<RecordHeader>();
        foreach (var log in Directory.GetFiles(Path.Combine(dir.Path, CommitLog.Directory), "*.log"))
        {
            var bytes = File.ReadAllBytes(log);
            for (var at = FileHeader.Size; at < bytes.Length && RecordCodec.Verify(bytes.AsSpan(at), out var h); at += h.TotalLength)
            {
                if (h.Type == RecordType.SessionDelete)
                {
                    deletes.Add(h);
                }
            }
        }
        Assert.Equal(3L, Assert.Single(deletes).Sequence);
    }

    /// <summary>
    /// The commit-log vector is a log a store replays: session A with its two live messages and summary, session
    /// B deleted. Also with the SessionDelete's sequence 0, as builds before the rule wrote it.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CommitLogVector_ReplaysIntoAStore(bool deleteSequenceZero)
    {
        var log = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "GoldenVectors", GoldenVectorSet.LogFile));
        if (deleteSequenceZero)
        {
            var at = FileHeader.Size;
            while (RecordCodec.Verify(log.AsSpan(at), out var h) && h.Type != RecordType.SessionDelete)
            {
                at += h.TotalLength;
            }
            var record = log.AsSpan(at, RecordHeader.Size);
            Assert.Equal(RecordType.SessionDelete, (RecordType)record[6]);
            BinaryPrimitives.WriteInt64LittleEndian(record[32..], 0);
            BinaryPrimitives.WriteUInt32LittleEndian(record, Crc32C.Compute(record[4..]));
        }
        using var dir = new TempStore();
        Directory.CreateDirectory(Path.Combine(dir.Path, CommitLog.Directory));
        File.WriteAllBytes(Path.Combine(dir.Path, CommitLog.Directory, CommitLog.FileNameFor(1)), log);
        await using var backend = new EngineBackend(dir.Path);
        await backend.ConnectAsync();
        Assert.Empty(backend.Engine.Damage);
        Assert.Null(await backend.GetSessionAsync("golden-b"));
        var a = (await backend.GetSessionAsync("golden-a"))!;
        var messages = await a.GetMessagesAsync();
        Assert.Equal([4L, 5L], messages.Select(m => m.Sequence));
        Assert.Equal("get_forecast", (string?)messages[1].FunctionCall!["name"]);
        Assert.Equal("sum-1", Assert.Single(await a.GetSummariesAsync()).SummaryId);
        Assert.Equal(0.5, a.Metadata.EvictionLowWater);
        Assert.True((await backend.VerifyAsync()).Ok);
    }
}
