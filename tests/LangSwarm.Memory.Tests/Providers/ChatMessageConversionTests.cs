using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Xunit;

namespace LangSwarm.Memory.Tests.Providers;

public sealed class ChatMessageConversionTests
{
    [Fact]
    public void Text_message_converts_with_id_time_and_author()
    {
        var at = new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var m = new Message(MessageRole.User, "Hello") { MessageId = "m1", Timestamp = at };
        m.Metadata["name"] = "alice";

        var c = m.ToChatMessage();

        Assert.Equal(ChatRole.User, c.Role);
        Assert.Equal("Hello", c.Text);
        Assert.IsType<TextContent>(Assert.Single(c.Contents));
        Assert.Equal("m1", c.MessageId);
        Assert.Equal(at, c.CreatedAt);
        Assert.Equal("alice", c.AuthorName);
    }

    [Theory]
    [InlineData(MessageRole.System)]
    [InlineData(MessageRole.User)]
    [InlineData(MessageRole.Assistant)]
    public void Text_roles_round_trip(MessageRole role)
    {
        var m = new Message(role, "text") { MessageId = "id1" };
        var back = Assert.Single(ChatMessageConversion.FromChatMessage(m.ToChatMessage()));
        Assert.Equal(role, back.Role);
        Assert.Equal("text", back.Content);
        Assert.Equal("id1", back.MessageId);
        Assert.Equal(m.Timestamp, back.Timestamp);
    }

    [Fact]
    public void Tool_calls_become_function_call_contents_with_parsed_arguments()
    {
        var m = new Message
        {
            Role = MessageRole.Assistant,
            Content = string.Empty,
            ToolCalls =
            [
                new JsonObject
                {
                    ["id"] = "call_1",
                    ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = "get_weather", ["arguments"] = """{"city":"Paris","days":2}""" },
                },
            ],
        };

        var c = m.ToChatMessage();

        Assert.Equal(ChatRole.Assistant, c.Role);
        var call = Assert.IsType<FunctionCallContent>(Assert.Single(c.Contents));
        Assert.Equal("call_1", call.CallId);
        Assert.Equal("get_weather", call.Name);
        Assert.NotNull(call.Arguments);
        Assert.Equal("Paris", ((JsonElement)call.Arguments!["city"]!).GetString());
        Assert.Equal(2, ((JsonElement)call.Arguments!["days"]!).GetInt32());
    }

    [Fact]
    public void Legacy_function_call_becomes_a_function_call_content()
    {
        var m = new Message
        {
            Role = MessageRole.Assistant,
            Content = "Looking up.",
            MessageId = "m7",
            FunctionCall = new JsonObject { ["name"] = "lookup", ["arguments"] = """{"q":"x"}""" },
        };
        var c = m.ToChatMessage();
        Assert.Equal(2, c.Contents.Count);
        Assert.Equal("Looking up.", Assert.IsType<TextContent>(c.Contents[0]).Text);
        var call = Assert.IsType<FunctionCallContent>(c.Contents[1]);
        Assert.Equal("lookup", call.CallId);
        Assert.Equal("lookup", call.Name);
        Assert.Equal("x", ((JsonElement)call.Arguments!["q"]!).GetString());
    }

    [Fact]
    public void Tool_result_becomes_function_result_content_with_call_id()
    {
        var m = new Message(MessageRole.Tool, "18C");
        m.Metadata["tool_call_id"] = "call_1";

        var c = m.ToChatMessage();

        Assert.Equal(ChatRole.Tool, c.Role);
        var r = Assert.IsType<FunctionResultContent>(Assert.Single(c.Contents));
        Assert.Equal("call_1", r.CallId);
        Assert.Equal("18C", r.Result);
    }

    [Fact]
    public void Function_result_uses_its_name_as_call_id()
    {
        var m = new Message(MessageRole.Function, "ok");
        m.Metadata["name"] = "lookup";
        var r = Assert.IsType<FunctionResultContent>(Assert.Single(m.ToChatMessage().Contents));
        Assert.Equal("lookup", r.CallId);
    }

    [Fact]
    public void FromChatMessage_reads_function_calls()
    {
        var c = new ChatMessage(ChatRole.Assistant, [
            new TextContent("Checking."),
            new FunctionCallContent("call_9", "get_time", new Dictionary<string, object?> { ["tz"] = "UTC", ["n"] = 3 }),
        ]);

        var m = Assert.Single(ChatMessageConversion.FromChatMessage(c));

        Assert.Equal(MessageRole.Assistant, m.Role);
        Assert.Equal("Checking.", m.Content);
        var call = Assert.Single(m.ToolCalls!)!;
        Assert.Equal("call_9", call["id"]!.GetValue<string>());
        Assert.Equal("function", call["type"]!.GetValue<string>());
        Assert.Equal("get_time", call["function"]!["name"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{"tz":"UTC","n":3}"""),
            JsonNode.Parse(call["function"]!["arguments"]!.GetValue<string>())));
    }

    [Fact]
    public void Several_function_results_make_several_tool_messages()
    {
        var c = new ChatMessage(ChatRole.Tool, [
            new FunctionResultContent("call_1", "18C"),
            new FunctionResultContent("call_2", new Dictionary<string, int> { ["hour"] = 12 }),
            new FunctionResultContent("call_3", null),
        ]);

        var list = ChatMessageConversion.FromChatMessage(c);

        Assert.Equal(3, list.Count);
        Assert.All(list, m => Assert.Equal(MessageRole.Tool, m.Role));
        Assert.Equal(["call_1", "call_2", "call_3"], list.Select(m => m.ToolCallId));
        Assert.Equal("18C", list[0].Content);
        Assert.Equal("""{"hour":12}""", list[1].Content);
        Assert.Equal("(empty result)", list[2].Content);
    }

    [Fact]
    public void Tool_message_round_trips()
    {
        var m = new Message(MessageRole.Tool, "18C") { MessageId = "r1" };
        m.Metadata["tool_call_id"] = "call_1";

        var back = Assert.Single(ChatMessageConversion.FromChatMessage(m.ToChatMessage()));

        Assert.Equal(MessageRole.Tool, back.Role);
        Assert.Equal("18C", back.Content);
        Assert.Equal("call_1", back.ToolCallId);
        Assert.Equal("r1", back.MessageId);
        Assert.Equal(m.Timestamp, back.Timestamp);
    }

    [Fact]
    public void Assistant_call_round_trips()
    {
        var m = new Message
        {
            Role = MessageRole.Assistant,
            Content = string.Empty,
            ToolCalls =
            [
                new JsonObject
                {
                    ["id"] = "call_1",
                    ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = "get_weather", ["arguments"] = """{"city":"Paris"}""" },
                },
            ],
        };

        var back = Assert.Single(ChatMessageConversion.FromChatMessage(m.ToChatMessage()));

        Assert.Equal(MessageRole.Assistant, back.Role);
        Assert.Equal(string.Empty, back.Content);
        Assert.True(JsonNode.DeepEquals(m.ToolCalls, back.ToolCalls), back.ToolCalls!.ToJsonString());
    }

    [Fact]
    public void Results_then_text_keep_their_order()
    {
        var c = new ChatMessage(ChatRole.User, [new FunctionResultContent("call_1", "18C"), new TextContent("Thanks")]);
        var list = ChatMessageConversion.FromChatMessage(c);
        Assert.Equal([MessageRole.Tool, MessageRole.User], list.Select(m => m.Role));
    }

    [Fact]
    public void Empty_chat_message_is_invalid()
    {
        Assert.Throws<InvalidMessageException>(() => ChatMessageConversion.FromChatMessage(new ChatMessage(ChatRole.User, (string?)null)));
    }

    [Fact]
    public void Unknown_chat_role_is_invalid()
    {
        Assert.Throws<InvalidMessageException>(() => ChatMessageConversion.FromChatMessage(new ChatMessage(new ChatRole("robot"), "hi")));
    }
}
