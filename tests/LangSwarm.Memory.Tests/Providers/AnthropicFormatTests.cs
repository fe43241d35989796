using System.Text.Json.Nodes;
using Xunit;

namespace LangSwarm.Memory.Tests.Providers;

public sealed class AnthropicFormatTests
{
    private static Message Call(params (string Id, string Name, string Args)[] calls)
    {
        var a = new JsonArray();
        foreach (var (id, name, args) in calls)
        {
            a.Add(new JsonObject
            {
                ["id"] = id,
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = name, ["arguments"] = args },
            });
        }
        return new Message { Role = MessageRole.Assistant, Content = string.Empty, ToolCalls = a };
    }

    private static Message Result(string id, string content)
    {
        var m = new Message(MessageRole.Tool, content);
        m.Metadata["tool_call_id"] = id;
        return m;
    }

    [Fact]
    public void System_messages_are_lifted_and_joined()
    {
        var conv = AnthropicFormat.MessagesToAnthropicFormat(
        [
            new Message(MessageRole.System, "You are helpful."),
            new Message(MessageRole.User, "Hi"),
            new Message(MessageRole.System, "Answer in French."),
            new Message(MessageRole.Assistant, "Bonjour"),
        ]);

        Assert.Equal("You are helpful.\n\nAnswer in French.", conv.System);
        Assert.Equal("""[{"role":"user","content":"Hi"},{"role":"assistant","content":"Bonjour"}]""", conv.Messages.ToJsonString());
    }

    [Fact]
    public void No_system_messages_means_null_system()
    {
        var conv = AnthropicFormat.MessagesToAnthropicFormat([new Message(MessageRole.User, "Hi")]);
        Assert.Null(conv.System);
    }

    [Fact]
    public void Tool_calls_become_tool_use_blocks_with_parsed_input()
    {
        var call = Call(("toolu_1", "get_weather", """{"city":"Paris","days":2}"""));
        call.Content = "Checking.";
        var conv = AnthropicFormat.MessagesToAnthropicFormat([new Message(MessageRole.User, "Weather?"), call]);

        var turn = conv.Messages[1]!.AsObject();
        Assert.Equal("assistant", turn["role"]!.GetValue<string>());
        var blocks = turn["content"]!.AsArray();
        Assert.Equal(2, blocks.Count);
        Assert.Equal("""{"type":"text","text":"Checking."}""", blocks[0]!.ToJsonString());
        Assert.Equal("tool_use", blocks[1]!["type"]!.GetValue<string>());
        Assert.Equal("toolu_1", blocks[1]!["id"]!.GetValue<string>());
        Assert.Equal("get_weather", blocks[1]!["name"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"city":"Paris","days":2}"""), blocks[1]!["input"]));
    }

    [Fact]
    public void Unparseable_arguments_are_kept_raw()
    {
        var conv = AnthropicFormat.MessagesToAnthropicFormat([new Message(MessageRole.User, "x"), Call(("t1", "f", "not json"))]);
        Assert.Equal("not json", conv.Messages[1]!["content"]![0]!["input"]!["raw"]!.GetValue<string>());
    }

    [Fact]
    public void Tool_results_merge_into_one_user_turn_with_following_text()
    {
        var conv = AnthropicFormat.MessagesToAnthropicFormat(
        [
            new Message(MessageRole.User, "Weather and time?"),
            Call(("toolu_1", "get_weather", "{}"), ("toolu_2", "get_time", "{}")),
            Result("toolu_1", "18C"),
            Result("toolu_2", "noon"),
            new Message(MessageRole.User, "Thanks!"),
        ]);

        Assert.Equal(3, conv.Messages.Count);
        Assert.Equal(["user", "assistant", "user"], conv.Messages.Select(t => t!["role"]!.GetValue<string>()));
        var blocks = conv.Messages[2]!["content"]!.AsArray();
        Assert.Equal(3, blocks.Count);
        Assert.Equal("""{"type":"tool_result","tool_use_id":"toolu_1","content":"18C"}""", blocks[0]!.ToJsonString());
        Assert.Equal("""{"type":"tool_result","tool_use_id":"toolu_2","content":"noon"}""", blocks[1]!.ToJsonString());
        Assert.Equal("""{"type":"text","text":"Thanks!"}""", blocks[2]!.ToJsonString());
    }

    [Fact]
    public void Consecutive_user_texts_merge_into_blocks()
    {
        var conv = AnthropicFormat.MessagesToAnthropicFormat([new Message(MessageRole.User, "One"), new Message(MessageRole.User, "Two")]);
        Assert.Equal("""[{"role":"user","content":[{"type":"text","text":"One"},{"type":"text","text":"Two"}]}]""", conv.Messages.ToJsonString());
    }

    [Fact]
    public void Legacy_function_call_maps_to_tool_use_and_tool_result()
    {
        var call = new Message
        {
            Role = MessageRole.Assistant,
            Content = string.Empty,
            MessageId = "m1",
            FunctionCall = new JsonObject { ["name"] = "lookup", ["arguments"] = """{"q":"x"}""" },
        };
        var result = new Message(MessageRole.Function, "found");
        result.Metadata["name"] = "lookup";

        var conv = AnthropicFormat.MessagesToAnthropicFormat([new Message(MessageRole.User, "Find x"), call, result]);

        var use = conv.Messages[1]!["content"]![0]!;
        Assert.Equal("tool_use", use["type"]!.GetValue<string>());
        Assert.Equal("toolu_m1", use["id"]!.GetValue<string>());
        Assert.Equal("lookup", use["name"]!.GetValue<string>());
        Assert.Equal("x", use["input"]!["q"]!.GetValue<string>());
        var res = conv.Messages[2]!;
        Assert.Equal("user", res["role"]!.GetValue<string>());
        Assert.Equal("toolu_m1", res["content"]![0]!["tool_use_id"]!.GetValue<string>());
        Assert.Equal("found", res["content"]![0]!["content"]!.GetValue<string>());
    }

    [Fact]
    public void Round_trip_preserves_roles_content_and_call_ids()
    {
        var original = new List<Message>
        {
            new(MessageRole.System, "Be brief."),
            new(MessageRole.User, "Weather and time?"),
            Call(("toolu_1", "get_weather", """{"city":"Paris"}"""), ("toolu_2", "get_time", "{}")),
            Result("toolu_1", "18C"),
            Result("toolu_2", "noon"),
            new(MessageRole.User, "Thanks! And tomorrow?"),
            new(MessageRole.Assistant, "Also 18C."),
        };

        var back = AnthropicFormat.MessagesFromAnthropicFormat(AnthropicFormat.MessagesToAnthropicFormat(original));

        Assert.Equal(original.Select(m => m.Role), back.Select(m => m.Role));
        Assert.Equal(original.Select(m => m.Content), back.Select(m => m.Content));
        Assert.Equal(original.Select(m => m.ToolCallId), back.Select(m => m.ToolCallId));
        var calls = back[2].ToolCalls!;
        Assert.Equal(["toolu_1", "toolu_2"], calls.Select(c => c!["id"]!.GetValue<string>()));
        Assert.Equal(["get_weather", "get_time"], calls.Select(c => c!["function"]!["name"]!.GetValue<string>()));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"city":"Paris"}"""), JsonNode.Parse(calls[0]!["function"]!["arguments"]!.GetValue<string>())));
    }

    [Fact]
    public void Round_trip_keeps_the_error_flag_of_a_tool_result()
    {
        var conv = new AnthropicConversation(null, JsonNode.Parse("""
            [
              {"role":"user","content":"go"},
              {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"boom","is_error":true}]}
            ]
            """)!.AsArray());

        var messages = AnthropicFormat.MessagesFromAnthropicFormat(conv);
        Assert.True(messages[2].Metadata["is_error"]!.GetValue<bool>());
        var again = AnthropicFormat.MessagesToAnthropicFormat(messages);
        Assert.True(JsonNode.DeepEquals(conv.Messages, again.Messages), again.Messages.ToJsonString());
    }

    [Fact]
    public void From_anthropic_reads_result_content_parts()
    {
        var conv = new AnthropicConversation("sys", JsonNode.Parse("""
            [{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]}]
            """)!.AsArray());
        var messages = AnthropicFormat.MessagesFromAnthropicFormat(conv);
        Assert.Equal(MessageRole.System, messages[0].Role);
        Assert.Equal("sys", messages[0].Content);
        Assert.Equal(MessageRole.Tool, messages[1].Role);
        Assert.Equal("ab", messages[1].Content);
        Assert.Equal("t1", messages[1].ToolCallId);
    }

    [Fact]
    public void Unsupported_block_type_is_an_invalid_message()
    {
        var conv = new AnthropicConversation(null, JsonNode.Parse("""
            [{"role":"user","content":[{"type":"image","source":{"type":"base64","data":"AA=="}}]}]
            """)!.AsArray());
        var ex = Assert.Throws<InvalidMessageException>(() => AnthropicFormat.MessagesFromAnthropicFormat(conv));
        Assert.Contains("image", ex.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidMessageException>(() => AnthropicFormat.CreateAnthropicMessage("user", JsonNode.Parse("""[{"type":"video"}]""")!.AsArray()));
    }

    [Fact]
    public void CreateAnthropicMessage_from_blocks()
    {
        var m = AnthropicFormat.CreateAnthropicMessage("assistant", JsonNode.Parse("""
            [{"type":"text","text":"Sure."},{"type":"tool_use","id":"t9","name":"f","input":{"a":1}}]
            """)!.AsArray());
        Assert.Equal(MessageRole.Assistant, m.Role);
        Assert.Equal("Sure.", m.Content);
        Assert.Equal("t9", m.ToolCalls![0]!["id"]!.GetValue<string>());
        Assert.Equal("""{"a":1}""", m.ToolCalls![0]!["function"]!["arguments"]!.GetValue<string>());

        Assert.Throws<InvalidMessageException>(() => AnthropicFormat.CreateAnthropicMessage("user", JsonNode.Parse("""
            [{"type":"tool_result","tool_use_id":"a","content":"1"},{"type":"tool_result","tool_use_id":"b","content":"2"}]
            """)!.AsArray()));
        Assert.Throws<InvalidMessageException>(() => AnthropicFormat.CreateAnthropicMessage("robot", "hi"));
    }
}
