using System.Text.Json.Nodes;
using Xunit;

namespace LangSwarm.Memory.Tests.Tokens;

public sealed class TiktokenCounterTests
{
    private static readonly TiktokenCounter Counter = TiktokenCounter.Default;

    [Theory]
    [InlineData("Hello, world!", 4)]
    [InlineData("The quick brown fox jumps over the lazy dog.", 10)]
    [InlineData("", 0)]
    public void Known_o200k_counts(string text, int expected) => Assert.Equal(expected, Counter.CountTokens(text));

    [Fact]
    public void Default_is_shared() => Assert.Same(TiktokenCounter.Default, TiktokenCounter.Default);

    [Fact]
    public void Message_adds_framing_overhead()
    {
        Assert.Equal(4, TiktokenCounter.MessageOverhead);
        Assert.Equal(4 + 4, Counter.CountMessageTokens(new Message(MessageRole.User, "Hello, world!")));
    }

    [Fact]
    public void Name_is_counted()
    {
        var m = new Message(MessageRole.User, "Hello, world!");
        m.Metadata["name"] = "alice";
        Assert.Equal(8 + Counter.CountTokens("alice"), Counter.CountMessageTokens(m));
    }

    [Fact]
    public void Tool_calls_json_is_counted()
    {
        var calls = new JsonArray
        {
            new JsonObject
            {
                ["id"] = "call_1",
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = "get_weather", ["arguments"] = """{"city":"Paris"}""" },
            },
        };
        var m = new Message { Role = MessageRole.Assistant, Content = string.Empty, ToolCalls = calls };
        var expected = TiktokenCounter.MessageOverhead + Counter.CountTokens(calls.ToJsonString());
        Assert.Equal(expected, Counter.CountMessageTokens(m));
        Assert.True(expected > TiktokenCounter.MessageOverhead + 5);

        var fc = new Message { Role = MessageRole.Assistant, Content = "x", FunctionCall = new JsonObject { ["name"] = "f", ["arguments"] = "{}" } };
        Assert.Equal(TiktokenCounter.MessageOverhead + Counter.CountTokens("x") + Counter.CountTokens(fc.FunctionCall.ToJsonString()), Counter.CountMessageTokens(fc));
    }

    [Fact]
    public void Null_message_is_rejected() => Assert.Throws<ArgumentNullException>(() => Counter.CountMessageTokens(null!));

    private sealed class CharCounter : ITokenCounter
    {
        public int Calls { get; private set; }

        public int CountTokens(string text) => text.Length;

        public int CountMessageTokens(Message message)
        {
            Calls++;
            return message.Content.Length * 10;
        }
    }

    [Fact]
    public async Task Custom_counter_fills_missing_counts_only()
    {
        var counter = new CharCounter();
        await using var backend = new InMemoryBackend(counter);
        await backend.ConnectAsync();
        var session = await backend.CreateSessionAsync(new SessionMetadata("s1"));

        await session.AddMessageAsync(new Message(MessageRole.User, "abc"));
        await session.AddMessageAsync(new Message(MessageRole.Assistant, "hello") { TokenCount = 7 });

        var stored = await session.GetMessagesAsync();
        Assert.Equal([30, 7], stored.Select(m => m.TokenCount ?? -1));
        Assert.Equal(1, counter.Calls);
        // The budget is measured in the custom counter's tokens.
        var recent = await session.GetRecentMessagesAsync(tokenLimit: 7);
        Assert.Equal("hello", Assert.Single(recent).Content);
    }
}
