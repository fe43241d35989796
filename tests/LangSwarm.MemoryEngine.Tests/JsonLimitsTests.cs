using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format.Codecs;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Log;
using LangSwarm.MemoryEngine.Testing;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>
/// What the engine accepts, it reads: JSON past the shared limits is refused before a byte reaches the log (the
/// store opens after a crash that follows), and the payload reader reads at least what the writer writes.
/// </summary>
public sealed class JsonLimitsTests
{
    private static JsonObject Nested(int depth)
    {
        var root = new JsonObject();
        var at = root;
        for (var level = 2; level <= depth; level++)
        {
            var child = new JsonObject();
            at["d"] = child;
            at = child;
        }
        return root;
    }

    [Fact]
    public async Task RejectedJson_WritesNothing_AndTheStoreOpensAfterACrash()
    {
        var fs = new FaultInjectingFileSystem();
        // Default thresholds: no checkpoint or vacuum runs in the background, so the device's operation count
        // shows whether a rejected call wrote anything.
        async Task<EngineBackend> OpenAsync()
        {
            var b = new EngineBackend(new EngineOptions { Path = "store", FileSystem = fs }, new CrashHarness.FixedTokenCounter());
            await b.ConnectAsync();
            return b;
        }
        var backend = await OpenAsync();
        var kept = await backend.CreateSessionAsync(new SessionMetadata("kept", "u") { SummaryStrategy = SummaryStrategy.Manual, Metadata = Nested(MemoryLimits.MaxJsonDepth) });
        await kept.AddMessageAsync(new Message(MessageRole.User, "before") { Metadata = Nested(MemoryLimits.MaxJsonDepth) });

        var operations = fs.Operations;
        // On main a 64-deep session metadata (65 levels with its own object) reached the log, then failed to decode.
        await Assert.ThrowsAsync<ArgumentException>(() => backend.CreateSessionAsync(new SessionMetadata("deep", "u") { Metadata = Nested(MemoryLimits.MaxJsonDepth + 1) }));
        await Assert.ThrowsAsync<ArgumentException>(() => kept.UpdateMetadataAsync(new Dictionary<string, object?> { ["deep"] = Nested(MemoryLimits.MaxJsonDepth) }));
        await Assert.ThrowsAsync<ArgumentException>(() => backend.CreateSessionAsync(new SessionMetadata("lone", "u") { Metadata = new JsonObject { ["k"] = "\uD800" } }));
        // Message JSON 65-999 deep was stored and then unreadable; 1,000 deep threw InvalidOperationException.
        foreach (var depth in new[] { MemoryLimits.MaxJsonDepth + 1, 999, 1000, 5000 })
        {
            await Assert.ThrowsAsync<InvalidMessageException>(() => kept.AddMessageAsync(new Message(MessageRole.User, "deep") { Metadata = Nested(depth) }));
            await Assert.ThrowsAsync<InvalidMessageException>(() => kept.AddMessageAsync(new Message(MessageRole.Assistant, string.Empty) { ToolCalls = [new JsonObject { ["function"] = new JsonObject { ["name"] = "f" }, ["x"] = Nested(depth) }] }));
        }
        Assert.Equal(operations, fs.Operations); // not one byte written

        fs.Kill();
        backend.Abandon(); // dropped without a dispose, as a killed process
        fs.Crash(new Random(1));

        var reopened = await OpenAsync();
        Assert.Empty(reopened.Engine.Damage);
        Assert.Null(await reopened.GetSessionAsync("deep"));
        Assert.Null(await reopened.GetSessionAsync("lone"));
        var back = (await reopened.GetSessionAsync("kept"))!;
        Assert.Equal(Nested(MemoryLimits.MaxJsonDepth).ToJsonString(), back.Metadata.Metadata.ToJsonString());
        Assert.Equal(["before"], (await back.GetMessagesAsync()).Select(m => m.Content));
        Assert.True((await reopened.VerifyAsync()).Ok);
        await reopened.DisposeAsync();
    }

    [Theory]
    [InlineData(MemoryLimits.MaxJsonDepth + 1)]
    [InlineData(500)]
    [InlineData(MemoryLimits.MaxJsonReadDepth)]
    public void Codecs_ReadBackJsonAsDeepAsTheyWrite(int depth)
    {
        // Earlier builds stored JSON up to 1,000 levels deep; the reader takes all of it back.
        var m = new Message(MessageRole.User, "deep") { MessageId = "m", Sequence = 1, Metadata = Nested(depth), ToolCalls = [Nested(depth - 1)] };
        var payload = new ArrayBufferWriter<byte>();
        MessageCodec.Write(payload, m);
        var back = MessageCodec.Read(MessageCodec.Header(1, m, 0), payload.WrittenSpan);
        Assert.Equal(m.Metadata.ToJsonString(), back.Metadata.ToJsonString());
        Assert.Equal(m.ToolCalls.ToJsonString(), back.ToolCalls!.ToJsonString());

        var state = new SessionState(new SessionMetadata("s", "u") { Metadata = Nested(depth) });
        var statePayload = new ArrayBufferWriter<byte>();
        StateCodec.Write(statePayload, state);
        Assert.Equal(state.Metadata.Metadata.ToJsonString(), StateCodec.Read(statePayload.WrittenSpan).Metadata.Metadata.ToJsonString());
    }

    [Fact]
    public void Codecs_RefuseJsonDeeperThanTheReader_BeforeFramingAnything()
    {
        var m = new Message(MessageRole.User, "too deep") { Metadata = Nested(MemoryLimits.MaxJsonReadDepth + 1) };
        Assert.Throws<InvalidMessageException>(() => MessageCodec.Write(new ArrayBufferWriter<byte>(), m));
        var state = new SessionState(new SessionMetadata("s", "u") { Metadata = Nested(MemoryLimits.MaxJsonReadDepth + 1) });
        Assert.Throws<ArgumentException>(() => StateCodec.Write(new ArrayBufferWriter<byte>(), state));
        // The per-thread writer is usable again after a failure.
        var ok = new Message(MessageRole.User, "fine") { Metadata = new JsonObject { ["k"] = "v" } };
        var payload = new ArrayBufferWriter<byte>();
        MessageCodec.Write(payload, ok);
        Assert.Equal("""{"k":"v"}""", MessageCodec.Read(MessageCodec.Header(1, ok, 0), payload.WrittenSpan).Metadata.ToJsonString());
    }

    [Fact]
    public void JsonField_HoldsTheBytesOfToJsonString()
    {
        var node = new JsonObject { ["é"] = "😀 \"q\" <b>", ["n"] = 1.5, ["a"] = new JsonArray(1, null, true) };
        var output = new ArrayBufferWriter<byte>();
        new PayloadWriter(output).WriteJson(node);
        var expected = new ArrayBufferWriter<byte>();
        new PayloadWriter(expected).WriteString(node.ToJsonString());
        Assert.Equal(expected.WrittenSpan.ToArray(), output.WrittenSpan.ToArray());
    }

    public static TheoryData<byte[]> DamagedJson => new()
    {
        new byte[] { (byte)'"', 0xC0, 0x80, (byte)'"' },                 // overlong NUL
        new byte[] { (byte)'"', 0xED, 0xA0, 0x80, (byte)'"' },           // a surrogate in UTF-8 (CESU)
        new byte[] { (byte)'"', 0xFF, (byte)'"' },                       // not UTF-8 at all
        Encoding.UTF8.GetBytes("""{"k":"\ud800"}"""),
        Encoding.UTF8.GetBytes("""{"k":"\udc00\ud800"}"""),
        Encoding.UTF8.GetBytes("""{"\ud800x":1}"""),
        Encoding.UTF8.GetBytes("""["\ud83d\u0041"]"""),
        Encoding.UTF8.GetBytes("""{"a":1,"a":2}"""),
        Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("{\"d\":", MemoryLimits.MaxJsonReadDepth)) + "{}" + new string('}', MemoryLimits.MaxJsonReadDepth)),
        Encoding.UTF8.GetBytes("{"),
    };

    [Theory]
    [MemberData(nameof(DamagedJson))]
    public void PayloadReader_RejectsJsonNoWriterProduces_AsDamage(byte[] json)
    {
        var payload = RawJsonPayload(json);
        Assert.Throws<InvalidDataException>(() => StateCodecReadMetadata(payload));
    }

    [Theory]
    [InlineData("""{"k":"\ud83d\ude00 \\ud800 is text"}""")]
    [InlineData("""{"k":"\\\\ud800"}""")]
    [InlineData("""{"k":"\uD83D\uDE00","\u00e9":"\u0000"}""")]
    public void PayloadReader_ReadsPairsAndEscapedBackslashes(string json)
    {
        var node = StateCodecReadMetadata(RawJsonPayload(Encoding.UTF8.GetBytes(json)));
        Assert.NotNull(node);
        Assert.Equal(JsonNode.Parse(json)!.ToJsonString(), node!.ToJsonString());
    }

    /// <summary>A session-state payload whose metadata field holds <paramref name="json"/> byte for byte.</summary>
    private static byte[] RawJsonPayload(byte[] json)
    {
        var output = new ArrayBufferWriter<byte>();
        var w = new PayloadWriter(output);
        w.WriteByte(1);
        w.WriteString("s");
        w.WriteString(null);
        w.WriteInt64(0);
        w.WriteInt64(0);
        w.WriteByte(0);
        w.WriteInt32(10);
        w.WriteInt32(10);
        w.WriteInt32(0);
        w.WriteByte(2);
        w.WriteVarint((ulong)json.Length + 1);
        output.Write(json);
        w.WriteInt64(0);
        w.WriteInt32(0);
        w.WriteInt64(0);
        w.WriteInt64(0);
        return output.WrittenSpan.ToArray();
    }

    private static JsonObject? StateCodecReadMetadata(byte[] payload) => StateCodec.Read(payload).Metadata.Metadata;
}
