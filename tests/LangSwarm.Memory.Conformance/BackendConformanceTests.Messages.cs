using System.Text.Json.Nodes;
using Xunit;

namespace LangSwarm.Memory.Conformance;

public abstract partial class BackendConformanceTests
{
    [Fact]
    public async Task AddThenGet_RoundTripsEveryField()
    {
        var s = await NewSessionAsync();
        var system = new Message(MessageRole.System, "You are a helpful assistant with access to weather tools.")
        {
            Metadata = new JsonObject
            {
                ["functions"] = new JsonArray(new JsonObject
                {
                    ["name"] = "get_weather",
                    ["parameters"] = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject { ["location"] = new JsonObject { ["type"] = "string" } } },
                }),
            },
            Timestamp = new DateTimeOffset(2025, 5, 6, 7, 8, 9, TimeSpan.FromHours(-7)).AddTicks(1),
        };
        var user = new Message(MessageRole.User, "What's the weather like? ünïcødé 🌦️ \"quotes\" \\ \n newline") { Metadata = new JsonObject { ["location"] = "user_query", ["n"] = 1.5e10, ["b"] = true } };
        var call = ToolCall("call_123");
        var fn = new Message(MessageRole.Assistant, string.Empty) { FunctionCall = new JsonObject { ["name"] = "get_weather", ["arguments"] = "{\"location\": \"San Francisco\"}" } };
        var result = ToolResult("call_123");
        result.Metadata["tool_name"] = "get_weather";
        var legacy = new Message(MessageRole.Function, "{\"ok\":true}");
        legacy.Metadata["name"] = "get_weather";
        Message[] sent = [system, user, call, fn, result, legacy];

        foreach (var m in sent)
        {
            await s.AddMessageAsync(m);
        }
        Assert.Equal([1L, 2, 3, 4, 5, 6], sent.Select(m => m.Sequence));
        Assert.All(sent, m => Assert.True(m.TokenCount > 0));

        var got = await s.GetMessagesAsync();
        Assert.Equal(sent.Length, got.Count);
        for (var i = 0; i < sent.Length; i++)
        {
            AssertSameMessage(sent[i], got[i]);
        }
    }

    [Fact]
    public async Task StoredMessages_AreCopies()
    {
        var s = await NewSessionAsync();
        var m = Msg(MessageRole.User, "original");
        m.Metadata["k"] = "v";
        await s.AddMessageAsync(m);
        m.Content = "changed";
        m.Metadata["k"] = "changed";
        var got = (await s.GetMessagesAsync()).Single();
        Assert.Equal("original", got.Content);
        Assert.Equal("v", got.Metadata["k"]!.GetValue<string>());
        got.Content = "mutated read";
        Assert.Equal("original", (await s.GetMessagesAsync()).Single().Content);
    }

    [Fact]
    public async Task EmptySession_ReturnsEmptyEverywhere()
    {
        var s = await NewSessionAsync();
        Assert.Empty(await s.GetMessagesAsync());
        Assert.Empty(await s.GetMessagesAsync(limit: 5));
        Assert.Empty(await s.GetRecentMessagesAsync());
        Assert.Empty(await s.GetConversationContextAsync());
        Assert.Empty(await s.GetSummariesAsync());
        await Assert.ThrowsAsync<MemoryException>(() => s.CreateSummaryAsync());
        var streamed = new List<Message>();
        await foreach (var m in s.StreamMessagesAsync())
        {
            streamed.Add(m);
        }
        Assert.Empty(streamed);
    }

    [Fact]
    public async Task Limit_ReturnsNewestOldestFirst()
    {
        var s = await NewSessionAsync();
        await s.AddMessagesAsync(Enumerable.Range(0, 10).Select(i => Msg(MessageRole.User, $"m{i}")));
        Assert.Empty(await s.GetMessagesAsync(limit: 0));
        Assert.Equal(["m7", "m8", "m9"], (await s.GetMessagesAsync(limit: 3)).Select(m => m.Content));
        Assert.Equal(10, (await s.GetMessagesAsync(limit: 100)).Count);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => s.GetMessagesAsync(limit: -1));
    }

    [Fact]
    public async Task Since_IsInclusive_AndFutureGivesNothing()
    {
        var s = await NewSessionAsync();
        var t0 = new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < 6; i++)
        {
            await s.AddMessageAsync(new Message(MessageRole.User, $"at {i}") { Timestamp = t0.AddMinutes(i), TokenCount = 5 });
        }
        Assert.Equal(["at 3", "at 4", "at 5"], (await s.GetMessagesAsync(since: t0.AddMinutes(3))).Select(m => m.Content));
        Assert.Equal(["at 3", "at 4", "at 5"], (await s.GetMessagesAsync(since: t0.AddMinutes(3).ToOffset(TimeSpan.FromHours(5)))).Select(m => m.Content));
        Assert.Empty(await s.GetMessagesAsync(since: DateTimeOffset.UtcNow.AddYears(1)));
        Assert.Equal(["at 4", "at 5"], (await s.GetMessagesAsync(limit: 2, since: t0.AddMinutes(1))).Select(m => m.Content));
    }

    [Fact]
    public async Task Roles_Filter()
    {
        var s = await NewSessionAsync();
        await s.AddMessagesAsync(
        [
            Msg(MessageRole.System, "sys"),
            Msg(MessageRole.User, "u1"),
            Msg(MessageRole.Assistant, "a1"),
            Msg(MessageRole.User, "u2"),
            ToolCall("c1"),
            ToolResult("c1", "r1"),
            Msg(MessageRole.Assistant, "a2"),
        ]);
        Assert.Equal(["u1", "u2"], (await s.GetMessagesAsync(roles: [MessageRole.User])).Select(m => m.Content));
        Assert.Equal(["u1", "a1", "u2", "", "a2"], (await s.GetMessagesAsync(roles: [MessageRole.User, MessageRole.Assistant])).Select(m => m.Content));
        Assert.Equal(["u2", "", "a2"], (await s.GetMessagesAsync(limit: 3, roles: [MessageRole.User, MessageRole.Assistant])).Select(m => m.Content));
        Assert.Empty(await s.GetMessagesAsync(roles: []));
        Assert.Empty(await s.GetMessagesAsync(roles: [MessageRole.Function]));
    }

    [Fact]
    public async Task Stream_YieldsAllInOrder()
    {
        var s = await NewSessionAsync();
        await s.AddMessagesAsync(Enumerable.Range(0, 300).Select(i => Msg(i % 2 == 0 ? MessageRole.User : MessageRole.Assistant, $"n{i}")));
        var seen = new List<string>();
        await foreach (var m in s.StreamMessagesAsync(roles: [MessageRole.User]))
        {
            seen.Add(m.Content);
        }
        Assert.Equal(Enumerable.Range(0, 150).Select(i => $"n{i * 2}"), seen);
    }

    [Fact]
    public async Task BatchAdd_KeepsOrder_AndAssignsSequences()
    {
        var s = await NewSessionAsync();
        await s.AddMessageAsync(Msg(MessageRole.User, "first"));
        var batch = Enumerable.Range(0, 50).Select(i => Msg(MessageRole.Assistant, $"b{i}")).ToList();
        await s.AddMessagesAsync(batch);
        Assert.Equal(Enumerable.Range(2, 50).Select(i => (long)i), batch.Select(m => m.Sequence));
        var got = await s.GetMessagesAsync();
        Assert.Equal(51, got.Count);
        Assert.Equal("first", got[0].Content);
        Assert.Equal("b49", got[^1].Content);
        await s.AddMessagesAsync([]);
        Assert.Equal(51, (await s.GetMessagesAsync()).Count);
    }

    [Fact]
    public async Task TokenCount_FilledWithRealTokenizer_WhenMissing()
    {
        var s = await NewSessionAsync();
        var m = new Message(MessageRole.User, "Hello, how are you today? I would like to know the weather in Paris.");
        await s.AddMessageAsync(m);
        Assert.InRange(m.TokenCount!.Value, 10, 40);
        var stored = (await s.GetMessagesAsync()).Single();
        Assert.Equal(m.TokenCount, stored.TokenCount);
        var given = new Message(MessageRole.User, "explicit") { TokenCount = 1234 };
        await s.AddMessageAsync(given);
        Assert.Equal(1234, (await s.GetMessagesAsync()).Last().TokenCount);
    }
}
