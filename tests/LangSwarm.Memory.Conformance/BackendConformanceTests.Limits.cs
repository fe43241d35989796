using System.Text.Json.Nodes;
using Xunit;

namespace LangSwarm.Memory.Conformance;

/// <summary>
/// The shared input limits (<see cref="MemoryLimits"/>) at the limit and one past it: what is accepted reads back
/// identical, also after a reopen; what is refused throws the typed exception and leaves nothing behind.
/// </summary>
public abstract partial class BackendConformanceTests
{
    private const int Depth = MemoryLimits.MaxJsonDepth;

    /// <summary>An object nested <paramref name="depth"/> levels, itself counting as the first.</summary>
    protected static JsonObject NestedObject(int depth)
    {
        var root = new JsonObject();
        var at = root;
        for (var level = 2; level <= depth; level++)
        {
            var child = new JsonObject();
            at[level % 2 == 0 ? "d" : "é"] = child;
            at = child;
        }
        at["leaf"] = "bottom 😀";
        return root;
    }

    /// <summary>Tool calls nested <paramref name="depth"/> levels: the array, the call, then an extra member.</summary>
    protected static JsonArray ToolCallsOfDepth(int depth) =>
    [
        new JsonObject
        {
            ["id"] = "call_deep",
            ["type"] = "function",
            ["function"] = new JsonObject { ["name"] = "deep", ["arguments"] = "{}" },
            ["x-extra"] = NestedObject(depth - 2),
        },
    ];

    /// <summary>A function_call nested <paramref name="depth"/> levels through its (object) arguments.</summary>
    protected static JsonObject FunctionCallOfDepth(int depth) => new() { ["name"] = "deep", ["arguments"] = NestedObject(depth - 1) };

    public static TheoryData<string> JsonMembers => ["metadata", "tool_calls", "function_call"];

    private static Message WithJsonOfDepth(string member, int depth)
    {
        var m = new Message(MessageRole.Assistant, member == "metadata" ? "deep metadata" : string.Empty) { TokenCount = 3 };
        switch (member)
        {
            case "metadata": m.Metadata = NestedObject(depth); break;
            case "tool_calls": m.ToolCalls = ToolCallsOfDepth(depth); break;
            default: m.FunctionCall = FunctionCallOfDepth(depth); break;
        }
        return m;
    }

    private async Task AssertMessagesStayAsync(string sessionId, IReadOnlyList<Message> expected)
    {
        foreach (var reopen in new[] { false, true })
        {
            if (reopen)
            {
                await ReopenBackendAsync();
            }
            var got = await (await Backend.GetSessionAsync(sessionId))!.GetMessagesAsync();
            Assert.Equal(expected.Count, got.Count);
            for (var i = 0; i < expected.Count; i++)
            {
                AssertSameMessage(expected[i], got[i]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(JsonMembers))]
    public async Task MessageJson_AtTheDepthLimit_RoundTrips_OnePast_IsRejected_AndNothingIsStored(string member)
    {
        var s = await NewSessionAsync();
        var atLimit = WithJsonOfDepth(member, Depth);
        await s.AddMessageAsync(atLimit);

        await Assert.ThrowsAsync<InvalidMessageException>(() => s.AddMessageAsync(WithJsonOfDepth(member, Depth + 1)));
        await Assert.ThrowsAsync<InvalidMessageException>(() => s.AddMessageAsync(WithJsonOfDepth(member, 1000)));
        await Assert.ThrowsAsync<InvalidMessageException>(() => s.AddMessagesAsync([Msg(MessageRole.User, "ok"), WithJsonOfDepth(member, Depth + 1)]));

        await AssertMessagesStayAsync(s.SessionId, [atLimit]);
    }

    [Fact]
    public async Task SessionMetadata_AtTheDepthLimit_IsCreated_OnePast_CreatesNothing()
    {
        var meta = new SessionMetadata("deep-ok", "u") { Metadata = NestedObject(Depth), SummaryStrategy = SummaryStrategy.Manual };
        await Backend.CreateSessionAsync(meta);
        await Assert.ThrowsAsync<ArgumentException>(() => Backend.CreateSessionAsync(new SessionMetadata("deep-no", "u") { Metadata = NestedObject(Depth + 1) }));
        await Assert.ThrowsAsync<ArgumentException>(() => Backend.CreateSessionAsync(new SessionMetadata("deep-1000", "u") { Metadata = NestedObject(1000) }));

        await ReopenBackendAsync();
        Assert.Equal(meta.Metadata.ToJsonString(), (await Backend.GetSessionAsync("deep-ok"))!.Metadata.Metadata.ToJsonString());
        Assert.Null(await Backend.GetSessionAsync("deep-no"));
        Assert.Null(await Backend.GetSessionAsync("deep-1000"));
        Assert.Equal(["deep-ok"], (await Backend.ListSessionsAsync()).Select(m => m.SessionId));
    }

    [Fact]
    public async Task SessionMetadataUpdate_AtTheDepthLimit_IsSaved_OnePast_ChangesNothing()
    {
        var s = await NewSessionAsync(id: "deep-update", configure: m => m.Metadata["keep"] = "me");
        await s.UpdateMetadataAsync(new Dictionary<string, object?> { ["deep"] = NestedObject(Depth - 1) });
        var saved = s.Metadata.Metadata.ToJsonString();

        await Assert.ThrowsAsync<ArgumentException>(() => s.UpdateMetadataAsync(new Dictionary<string, object?> { ["deeper"] = NestedObject(Depth), ["max_tokens"] = 5 }));
        await Assert.ThrowsAsync<ArgumentException>(() => s.UpdateMetadataAsync(new Dictionary<string, object?> { ["custom_metadata"] = new JsonObject { ["x"] = NestedObject(Depth) } }));
        Assert.Equal(saved, s.Metadata.Metadata.ToJsonString());

        await ReopenBackendAsync();
        var back = (await Backend.GetSessionAsync("deep-update"))!.Metadata;
        Assert.Equal(saved, back.Metadata.ToJsonString());
        Assert.Equal(32000, back.MaxTokens);
    }

    public static TheoryData<string> LoneSurrogateMessages => ["metadata key", "metadata value", "nested value", "parsed escape", "parsed key", "tool name", "tool arguments", "function_call name", "lone char"];

    private static Message WithLoneSurrogate(string where)
    {
        var m = new Message(MessageRole.Assistant, "text") { TokenCount = 2 };
        switch (where)
        {
            case "metadata key": m.Metadata["k\uD800"] = 1; break;
            case "metadata value": m.Metadata["k"] = "v\uDC00"; break;
            case "nested value": m.Metadata["k"] = new JsonArray(new JsonObject { ["x"] = "a\uD83D" }); break;
            case "parsed escape": m.Metadata = JsonNode.Parse("""{"k":"a\ud800b"}""")!.AsObject(); break;
            case "parsed key": m.Metadata = JsonNode.Parse("""{"\udc00":1}""")!.AsObject(); break;
            case "tool name": m.ToolCalls = [new JsonObject { ["id"] = "c", ["type"] = "function", ["function"] = new JsonObject { ["name"] = "f\uD800", ["arguments"] = "{}" } }]; break;
            case "tool arguments": m.ToolCalls = [new JsonObject { ["id"] = "c", ["type"] = "function", ["function"] = new JsonObject { ["name"] = "f", ["arguments"] = "{\"q\":\"\uDFFF\"}" } }]; break;
            case "function_call name": m.FunctionCall = new JsonObject { ["name"] = "\uDBFF", ["arguments"] = "{}" }; break;
            default: m.Metadata["c"] = JsonValue.Create('\uD800'); break;
        }
        return m;
    }

    [Theory]
    [MemberData(nameof(LoneSurrogateMessages))]
    public async Task LoneSurrogates_InMessageJson_AreRejected_AsInContent(string where)
    {
        var s = await NewSessionAsync();
        var good = Msg(MessageRole.User, "a valid pair 😀 in 𝄞 text");
        good.Metadata["emoji 😀"] = "𝄞 and 😀";
        await s.AddMessageAsync(good);

        await Assert.ThrowsAsync<InvalidMessageException>(() => s.AddMessageAsync(WithLoneSurrogate(where)));

        await AssertMessagesStayAsync(s.SessionId, [good]);
    }

    [Fact]
    public async Task LoneSurrogates_InSessionMetadata_AreRejected_OnCreateAndUpdate()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Backend.CreateSessionAsync(new SessionMetadata("lone-key", "u") { Metadata = new JsonObject { ["k\uD800"] = 1 } }));
        await Assert.ThrowsAsync<ArgumentException>(() => Backend.CreateSessionAsync(new SessionMetadata("lone-value", "u") { Metadata = new JsonObject { ["k"] = "\uDC00" } }));
        await Assert.ThrowsAsync<ArgumentException>(() => Backend.CreateSessionAsync(new SessionMetadata("lone-parsed", "u") { Metadata = JsonNode.Parse("""{"\ud800":1}""")!.AsObject() }));
        var s = await NewSessionAsync(id: "lone-update", configure: m => m.Metadata["ok"] = "😀");
        await Assert.ThrowsAsync<ArgumentException>(() => s.UpdateMetadataAsync(new Dictionary<string, object?> { ["k"] = "bad\uD800" }));
        await Assert.ThrowsAsync<ArgumentException>(() => s.UpdateMetadataAsync(new Dictionary<string, object?> { ["k\uDC00"] = "key" }));
        await Assert.ThrowsAsync<ArgumentException>(() => s.UpdateMetadataAsync(new Dictionary<string, object?> { ["k"] = new Dictionary<string, object?> { ["inner"] = new[] { "x\uD800" } } }));
        await Assert.ThrowsAsync<ArgumentException>(() => s.UpdateMetadataAsync(new Dictionary<string, object?> { ["k"] = new Dictionary<string, object?> { ["inner\uD800"] = 1 } }));

        await ReopenBackendAsync();
        Assert.Equal(["lone-update"], (await Backend.ListSessionsAsync()).Select(m => m.SessionId));
        Assert.Equal("""{"ok":"\uD83D\uDE00"}""", (await Backend.GetSessionAsync("lone-update"))!.Metadata.Metadata.ToJsonString());
    }

    public static TheoryData<string> MalformedCalls => new()
    {
        """{"tool_calls":[1]}""",
        """{"tool_calls":[null]}""",
        """{"tool_calls":[[]]}""",
        """{"tool_calls":[{"id":"c","type":"function","function":{"name":123,"arguments":"{}"}}]}""",
        """{"tool_calls":[{"id":"c","type":"function","function":{"name":{"x":1},"arguments":"{}"}}]}""",
        """{"tool_calls":[{"id":"c","type":"function","function":{"arguments":"{}"}}]}""",
        """{"tool_calls":[{"id":"c","type":"function"}]}""",
        """{"tool_calls":[{"id":"c","type":"function","function":"f"}]}""",
        """{"tool_calls":[{"id":7,"type":"function","function":{"name":"f","arguments":"{}"}}]}""",
        """{"tool_calls":[{"id":"c","type":["function"],"function":{"name":"f","arguments":"{}"}}]}""",
        """{"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":5}}]}""",
        """{"function_call":{"name":{"a":1},"arguments":"{}"}}""",
        """{"function_call":{"name":42}}""",
        """{"function_call":{"arguments":"{}"}}""",
        """{"function_call":{"name":"f","arguments":[1]}}""",
    };

    private static Message FromCalls(string json)
    {
        var o = JsonNode.Parse(json)!.AsObject();
        return new Message(MessageRole.Assistant, string.Empty)
        {
            TokenCount = 3,
            ToolCalls = (JsonArray?)o["tool_calls"]?.DeepClone(),
            FunctionCall = (JsonObject?)o["function_call"]?.DeepClone(),
        };
    }

    [Theory]
    [MemberData(nameof(MalformedCalls))]
    public async Task MalformedCalls_AreRejected_AndLaterAddsStillSummarize(string calls)
    {
        var s = await NewSessionAsync(configure: m =>
        {
            m.SummaryStrategy = SummaryStrategy.Periodic;
            m.AutoSummarizeThreshold = 2;
        });
        await Assert.ThrowsAsync<InvalidMessageException>(() => s.AddMessageAsync(FromCalls(calls)));
        var after = new List<Message> { Msg(MessageRole.User, "Is it raining?"), ToolCall("call_1"), ToolResult("call_1"), Msg(MessageRole.Assistant, "No rain today.") };
        foreach (var m in after)
        {
            await s.AddMessageAsync(m);
        }
        await IdleAsync();
        Assert.NotEmpty(await s.GetSummariesAsync());
        await AssertMessagesStayAsync(s.SessionId, after);
    }

    public static TheoryData<string> ToleratedCalls => new()
    {
        """{"tool_calls":[]}""",
        """{"tool_calls":[{"function":{"name":"f"}}]}""",
        """{"tool_calls":[{"id":null,"type":null,"function":{"name":"f","arguments":null}}]}""",
        """{"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":{"city":"Paris"}},"index":0}]}""",
        """{"tool_calls":[{"id":"c","type":"custom","custom":{"name":"grep","input":"x"}}]}""",
        """{"function_call":{"name":"f"}}""",
        """{"function_call":{"name":"f","arguments":{"q":[1,2]}}}""",
    };

    [Theory]
    [MemberData(nameof(ToleratedCalls))]
    public async Task DocumentedAndTolerantCallShapes_AreAccepted_AndReadBack(string calls)
    {
        var s = await NewSessionAsync();
        var m = FromCalls(calls);
        m.Content = "calling";
        await s.AddMessageAsync(m);
        await AssertMessagesStayAsync(s.SessionId, [m]);
    }

    [Fact]
    public async Task NumbersJsonCannotWrite_AreRejected()
    {
        var s = await NewSessionAsync();
        var nan = Msg(MessageRole.User, "nan");
        nan.Metadata["x"] = double.NaN;
        await Assert.ThrowsAsync<InvalidMessageException>(() => s.AddMessageAsync(nan));
        var inf = Msg(MessageRole.User, "inf");
        inf.Metadata["x"] = new JsonArray(float.PositiveInfinity);
        await Assert.ThrowsAsync<InvalidMessageException>(() => s.AddMessageAsync(inf));
        await Assert.ThrowsAsync<ArgumentException>(() => Backend.CreateSessionAsync(new SessionMetadata("nan", "u") { Metadata = new JsonObject { ["x"] = double.NegativeInfinity } }));
        Assert.Empty(await s.GetMessagesAsync());
        Assert.Null(await Backend.GetSessionAsync("nan"));
    }

    /// <summary>Metadata whose compact JSON is exactly <paramref name="length"/> characters: <c>{"k":"xxx…"}</c>.</summary>
    private static JsonObject MetadataOfLength(int length) => new() { ["k"] = new string('x', length - 8) };

    [Fact]
    public async Task JsonLength_AtTheLimit_RoundTrips_OnePast_IsRejected()
    {
        var atLimit = MetadataOfLength(MemoryLimits.MaxJsonLength);
        Assert.Equal(MemoryLimits.MaxJsonLength, atLimit.ToJsonString().Length);
        var s = await NewSessionAsync(id: "long-json", configure: m => m.Metadata = MetadataOfLength(MemoryLimits.MaxJsonLength));
        await Assert.ThrowsAsync<ArgumentException>(() => Backend.CreateSessionAsync(new SessionMetadata("too-long", "u") { Metadata = MetadataOfLength(MemoryLimits.MaxJsonLength + 1) }));

        var m = Msg(MessageRole.User, "long metadata");
        m.Metadata = atLimit;
        await s.AddMessageAsync(m);
        var past = Msg(MessageRole.User, "one past");
        past.Metadata = MetadataOfLength(MemoryLimits.MaxJsonLength + 1);
        await Assert.ThrowsAsync<InvalidMessageException>(() => s.AddMessageAsync(past));
        // The members of a message count together.
        var shared = ToolCall("call_long");
        shared.Metadata = MetadataOfLength(MemoryLimits.MaxJsonLength - 20);
        await Assert.ThrowsAsync<InvalidMessageException>(() => s.AddMessageAsync(shared));

        await AssertMessagesStayAsync("long-json", [m]);
        Assert.Null(await Backend.GetSessionAsync("too-long"));
        Assert.Equal(MemoryLimits.MaxJsonLength, (await Backend.GetSessionAsync("long-json"))!.Metadata.Metadata.ToJsonString().Length);
    }

    [Fact]
    public async Task TextWithNul_LongerThanABindBuffer_RoundTrips_InContentAndSummaries()
    {
        var s = await NewSessionAsync(id: "nul-text");
        var text = new string('x', 600) + "\0 after the nul. " + new string('y', 600) + "\0";
        var m = Msg(MessageRole.User, text);
        await s.AddMessageAsync(m);
        var summary = await s.CreateSummaryAsync();
        await AssertMessagesStayAsync("nul-text", [m]);
        Assert.Equal(summary.SummaryText, Assert.Single(await (await Backend.GetSessionAsync("nul-text"))!.GetSummariesAsync()).SummaryText);
    }
}
