using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Xunit;

namespace LangSwarm.Memory.Tests.Providers;

/// <summary>
/// Calls of the wrong shape are refused on add (InvalidMessageException), and every reader of calls — the
/// summarizer, the provider formats, the token counter — reads them anyway without an InvalidOperationException
/// (on main, <c>tool_calls: [1]</c> made every later add throw once auto-summarize ran).
/// </summary>
public sealed class OddCallShapesTests
{
    public static TheoryData<string> OddCalls => new()
    {
        """{"tool_calls":[1]}""",
        """{"tool_calls":[null, "x", []]}""",
        """{"tool_calls":[{"id":5,"type":{},"function":{"name":123,"arguments":7}}]}""",
        """{"tool_calls":[{"id":"c","function":{"name":{"nested":"object"},"arguments":"{"}}]}""",
        """{"tool_calls":[{"id":"c","function":"f"}]}""",
        """{"tool_calls":[{"id":"\ud800","function":{"name":"\udc00"}}]}""",
        """{"function_call":{"name":{"a":1},"arguments":[1]}}""",
        """{"function_call":{"name":"\ud800"}}""",
    };

    private static Message Odd(string json)
    {
        var o = JsonNode.Parse(json)!.AsObject();
        var m = new Message(MessageRole.Assistant, "calling") { TokenCount = 1 };
        m.ToolCalls = (JsonArray?)o["tool_calls"]?.DeepClone();
        m.FunctionCall = (JsonObject?)o["function_call"]?.DeepClone();
        return m;
    }

    [Theory]
    [MemberData(nameof(OddCalls))]
    public async Task OddCalls_AreRefusedOnAdd_ButEveryReaderCopesWithThem(string json)
    {
        var m = Odd(json);
        Assert.Throws<InvalidMessageException>(() => MessageValidator.ValidateMessage(m));

        var summary = await new ExtractiveSummarizer().SummarizeAsync([m, new Message(MessageRole.User, "Is it raining today?")], null);
        Assert.Contains("2 messages", summary, StringComparison.Ordinal);
        var anthropic = AnthropicFormat.MessagesToAnthropicFormat([m]);
        Assert.NotNull(anthropic.Messages.ToJsonString());
        Assert.Single(OpenAIFormat.MessagesToOpenAIFormat([m]));
        var chat = m.ToChatMessage();
        Assert.All(chat.Contents.OfType<FunctionCallContent>(), c => Assert.False(string.IsNullOrEmpty(c.Name)));
        // Parsed JSON with an unpaired surrogate escape cannot be written back as JSON: a typed error, not a raw one.
        try
        {
            Assert.True(TiktokenCounter.Default.CountMessageTokens(m) > 0);
        }
        catch (InvalidMessageException)
        {
        }
    }

    [Fact]
    public void NumbersJsonCannotWrite_AreAnInvalidMessage_ForTheTokenCounter()
    {
        var m = new Message(MessageRole.Assistant, string.Empty) { FunctionCall = new JsonObject { ["name"] = "f", ["arguments"] = double.NaN } };
        Assert.Throws<InvalidMessageException>(() => TiktokenCounter.Default.CountMessageTokens(m));
        Assert.Throws<InvalidMessageException>(() => MessageValidator.ValidateMessage(m));
    }

    [Fact]
    public void NameAndToolCallId_ReadOnlyStrings()
    {
        var m = new Message(MessageRole.Tool, "result") { Metadata = JsonNode.Parse("""{"name":"\ud800","tool_call_id":7}""")!.AsObject() };
        Assert.Null(m.Name);
        Assert.Null(m.ToolCallId);
    }

    [Fact]
    public void AnthropicInput_OfTheWrongShape_IsAnInvalidMessage()
    {
        Assert.Throws<InvalidMessageException>(() => AnthropicFormat.CreateAnthropicMessage("assistant", [1]));
        Assert.Throws<InvalidMessageException>(() => AnthropicFormat.CreateAnthropicMessage("assistant", [new JsonObject { ["type"] = "text", ["text"] = 5 }]));
        Assert.Throws<InvalidMessageException>(() => AnthropicFormat.CreateAnthropicMessage("assistant", [new JsonObject { ["type"] = 3 }]));
        Assert.Throws<InvalidMessageException>(() => AnthropicFormat.CreateAnthropicMessage("assistant", [new JsonObject { ["type"] = "tool_use", ["id"] = "t", ["name"] = new JsonObject() }]));
        Assert.Throws<InvalidMessageException>(() => AnthropicFormat.MessagesFromAnthropicFormat(new AnthropicConversation(null, [new JsonObject { ["role"] = 1, ["content"] = "x" }])));
        var result = AnthropicFormat.CreateAnthropicMessage("user", [new JsonObject { ["type"] = "tool_result", ["tool_use_id"] = "t", ["content"] = "ok", ["is_error"] = "yes" }]);
        Assert.False(result.Metadata.ContainsKey("is_error"));
    }

    [Fact]
    public void ArgumentsThatAreNotStorableJson_StayRaw_InProviderFormats()
    {
        var deep = new string('[', 100) + new string(']', 100);
        var m = new Message(MessageRole.Assistant, string.Empty)
        {
            ToolCalls = [new JsonObject { ["id"] = "c", ["type"] = "function", ["function"] = new JsonObject { ["name"] = "f", ["arguments"] = deep } }],
            FunctionCall = new JsonObject { ["name"] = "g", ["arguments"] = """{"a":"\ud800"}""" },
        };
        MessageValidator.ValidateMessage(m); // the arguments are strings: valid text
        var blocks = AnthropicFormat.MessagesToAnthropicFormat([m]).Messages[0]!["content"]!.AsArray();
        Assert.Equal(deep, blocks[0]!["input"]!["raw"]!.GetValue<string>());
        Assert.Equal("""{"a":"\ud800"}""", blocks[1]!["input"]!["raw"]!.GetValue<string>());
        var calls = m.ToChatMessage().Contents.OfType<FunctionCallContent>().ToList();
        Assert.Equal(deep, calls[0].Arguments!["raw"]);
        Assert.NotNull(AnthropicFormat.MessagesToAnthropicFormat([m]).Messages.ToJsonString());
    }
}
