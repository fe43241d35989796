using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Xunit;

namespace LangSwarm.Memory.Tests.Providers;

/// <summary>Calls and their results keep pairing up when the stored messages carry no call ids.</summary>
public sealed class CallIdPairingTests
{
    private static Message LegacyCall(string messageId, string name) => new()
    {
        Role = MessageRole.Assistant,
        Content = string.Empty,
        MessageId = messageId,
        FunctionCall = new JsonObject { ["name"] = name, ["arguments"] = """{"q":"x"}""" },
    };

    private static Message FunctionResult(string name, string content)
    {
        var m = new Message(MessageRole.Function, content);
        m.Metadata["name"] = name;
        return m;
    }

    private static Message IdlessToolCalls(string messageId, params string[] names)
    {
        var calls = new JsonArray();
        foreach (var name in names)
        {
            calls.Add(new JsonObject
            {
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = name, ["arguments"] = "{}" },
            });
        }
        return new Message { Role = MessageRole.Assistant, Content = string.Empty, MessageId = messageId, ToolCalls = calls };
    }

    private static Message IdlessToolResult(string content, string? name = null)
    {
        var m = new Message(MessageRole.Tool, content);
        if (name is not null)
        {
            m.Metadata["name"] = name;
        }
        return m;
    }

    [Fact]
    public void ChatMessage_legacy_function_call_and_its_result_share_a_call_id()
    {
        var chat = new[] { LegacyCall("m7", "lookup"), FunctionResult("lookup", "found") }.ToChatMessages();
        var call = Assert.IsType<FunctionCallContent>(Assert.Single(chat[0].Contents));
        var result = Assert.IsType<FunctionResultContent>(Assert.Single(chat[1].Contents));
        Assert.Equal(call.CallId, result.CallId);
        Assert.Equal("found", result.Result);
        Assert.Equal(ChatRole.Tool, chat[1].Role);
    }

    [Fact]
    public void ChatMessage_result_with_a_tool_call_id_keeps_it()
    {
        var result = FunctionResult("lookup", "found");
        result.Metadata["tool_call_id"] = "call_9";
        Assert.Equal("call_9", Assert.IsType<FunctionResultContent>(Assert.Single(result.ToChatMessage().Contents)).CallId);
    }

    [Fact]
    public void Anthropic_idless_tool_calls_get_distinct_ids_and_results_refer_to_the_right_one()
    {
        var conv = AnthropicFormat.MessagesToAnthropicFormat(
        [
            new Message(MessageRole.User, "Weather and time?"),
            IdlessToolCalls("m1", "get_weather", "get_time"),
            IdlessToolResult("18C"),
            IdlessToolResult("noon"),
        ]);
        var uses = conv.Messages[1]!["content"]!.AsArray();
        Assert.Equal(2, uses.Count);
        var weatherId = uses[0]!["id"]!.GetValue<string>();
        var timeId = uses[1]!["id"]!.GetValue<string>();
        Assert.NotEqual(weatherId, timeId);
        Assert.Equal("get_weather", uses[0]!["name"]!.GetValue<string>());

        var results = conv.Messages[2]!["content"]!.AsArray();
        Assert.Equal(2, results.Count);
        Assert.Equal(weatherId, results[0]!["tool_use_id"]!.GetValue<string>());
        Assert.Equal("18C", results[0]!["content"]!.GetValue<string>());
        Assert.Equal(timeId, results[1]!["tool_use_id"]!.GetValue<string>());
    }

    [Fact]
    public void Anthropic_idless_results_naming_their_function_pair_by_name()
    {
        var conv = AnthropicFormat.MessagesToAnthropicFormat(
        [
            new Message(MessageRole.User, "Weather and time?"),
            IdlessToolCalls("m2", "get_weather", "get_time"),
            IdlessToolResult("noon", "get_time"),
            IdlessToolResult("18C", "get_weather"),
        ]);
        var uses = conv.Messages[1]!["content"]!.AsArray();
        var results = conv.Messages[2]!["content"]!.AsArray();
        Assert.Equal(uses[1]!["id"]!.GetValue<string>(), results[0]!["tool_use_id"]!.GetValue<string>());
        Assert.Equal(uses[0]!["id"]!.GetValue<string>(), results[1]!["tool_use_id"]!.GetValue<string>());
    }

    [Fact]
    public void Anthropic_two_idless_turns_do_not_share_ids()
    {
        var conv = AnthropicFormat.MessagesToAnthropicFormat(
        [
            new Message(MessageRole.User, "Go"),
            IdlessToolCalls("m3", "a"),
            IdlessToolResult("ra"),
            IdlessToolCalls("m4", "b"),
            IdlessToolResult("rb"),
        ]);
        var ids = conv.Messages.Select(t => t!["content"]).OfType<JsonArray>().SelectMany(a => a)
            .Select(b => (b!["id"] ?? b["tool_use_id"])?.GetValue<string>()).OfType<string>().ToList();
        Assert.Equal(4, ids.Count);
        Assert.Equal(ids[0], ids[1]);
        Assert.Equal(ids[2], ids[3]);
        Assert.NotEqual(ids[0], ids[2]);
    }
}
