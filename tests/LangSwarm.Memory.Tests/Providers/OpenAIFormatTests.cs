using System.Text.Json.Nodes;
using Xunit;

namespace LangSwarm.Memory.Tests.Providers;

public sealed class OpenAIFormatTests
{
    private static JsonArray WeatherCall(string id = "call_1") =>
    [
        new JsonObject
        {
            ["id"] = id,
            ["type"] = "function",
            ["function"] = new JsonObject { ["name"] = "get_weather", ["arguments"] = "{\"city\":\"Paris\"}" },
        },
    ];

    [Theory]
    [InlineData("system", MessageRole.System)]
    [InlineData("developer", MessageRole.System)]
    [InlineData("user", MessageRole.User)]
    [InlineData("assistant", MessageRole.Assistant)]
    [InlineData("tool", MessageRole.Tool)]
    [InlineData("function", MessageRole.Function)]
    [InlineData("USER", MessageRole.User)]
    public void CreateOpenAIMessage_maps_every_role(string role, MessageRole expected)
    {
        var m = OpenAIFormat.CreateOpenAIMessage(role, "text");
        Assert.Equal(expected, m.Role);
        Assert.Equal("text", m.Content);
        Assert.Null(m.ToolCalls);
        Assert.Null(m.FunctionCall);
    }

    [Fact]
    public void CreateOpenAIMessage_keeps_name_and_tool_call_id_in_metadata()
    {
        var tool = OpenAIFormat.CreateOpenAIMessage("tool", "18C", name: "get_weather", toolCallId: "call_1");
        Assert.Equal("call_1", tool.ToolCallId);
        Assert.Equal("get_weather", tool.Name);
        var fn = OpenAIFormat.CreateOpenAIMessage("function", "18C", name: "get_weather");
        Assert.Equal(MessageRole.Function, fn.Role);
        Assert.Equal("get_weather", fn.Name);
    }

    [Fact]
    public void Null_content_is_allowed_with_tool_calls()
    {
        var calls = WeatherCall();
        var m = OpenAIFormat.CreateOpenAIMessage("assistant", null, toolCalls: calls);
        Assert.Equal(string.Empty, m.Content);
        Assert.True(m.HasCalls);
        Assert.Equal("call_1", m.ToolCalls![0]!["id"]!.GetValue<string>());
        // The message holds a copy: changing the caller's array changes nothing stored.
        calls[0]!["id"] = "changed";
        Assert.Equal("call_1", m.ToolCalls![0]!["id"]!.GetValue<string>());
    }

    [Fact]
    public void Null_content_is_allowed_with_a_legacy_function_call()
    {
        var fc = new JsonObject { ["name"] = "get_weather", ["arguments"] = "{}" };
        var m = OpenAIFormat.CreateOpenAIMessage("assistant", null, functionCall: fc);
        Assert.True(m.HasCalls);
        Assert.Equal("get_weather", m.FunctionCall!["name"]!.GetValue<string>());
    }

    [Fact]
    public void Null_content_without_calls_is_invalid()
    {
        Assert.Throws<InvalidMessageException>(() => OpenAIFormat.CreateOpenAIMessage("user", null));
        Assert.Throws<InvalidMessageException>(() => OpenAIFormat.CreateOpenAIMessage("assistant", null, toolCalls: []));
    }

    [Theory]
    [InlineData("bot")]
    [InlineData("")]
    [InlineData("assistant2")]
    public void Unknown_role_is_an_invalid_message(string role)
    {
        var ex = Assert.Throws<InvalidMessageException>(() => OpenAIFormat.CreateOpenAIMessage(role, "hi"));
        Assert.Contains("Valid roles", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MessagesToOpenAIFormat_has_the_request_shape()
    {
        var messages = new List<Message>
        {
            OpenAIFormat.CreateOpenAIMessage("developer", "Be brief."),
            OpenAIFormat.CreateOpenAIMessage("user", "Weather?", name: "alice"),
            OpenAIFormat.CreateOpenAIMessage("assistant", null, toolCalls: WeatherCall()),
            OpenAIFormat.CreateOpenAIMessage("tool", "18C", toolCallId: "call_1"),
            OpenAIFormat.CreateOpenAIMessage("assistant", null, functionCall: new JsonObject { ["name"] = "f", ["arguments"] = "{}" }),
            OpenAIFormat.CreateOpenAIMessage("function", "ok", name: "f"),
            OpenAIFormat.CreateOpenAIMessage("assistant", "It is 18C."),
        };

        var a = OpenAIFormat.MessagesToOpenAIFormat(messages);

        Assert.Equal(7, a.Count);
        Assert.Equal("""{"role":"system","content":"Be brief."}""", a[0]!.ToJsonString());
        Assert.Equal("""{"role":"user","content":"Weather?","name":"alice"}""", a[1]!.ToJsonString());
        var call = a[2]!.AsObject();
        Assert.Equal("assistant", call["role"]!.GetValue<string>());
        Assert.True(call.ContainsKey("content"));
        Assert.Null(call["content"]);
        Assert.Equal("get_weather", call["tool_calls"]![0]!["function"]!["name"]!.GetValue<string>());
        Assert.False(call.ContainsKey("tool_call_id"));
        Assert.Equal("""{"role":"tool","content":"18C","tool_call_id":"call_1"}""", a[3]!.ToJsonString());
        Assert.Null(a[4]!["content"]);
        Assert.Equal("f", a[4]!["function_call"]!["name"]!.GetValue<string>());
        Assert.Equal("""{"role":"function","content":"ok","name":"f"}""", a[5]!.ToJsonString());
        Assert.Equal("""{"role":"assistant","content":"It is 18C."}""", a[6]!.ToJsonString());
    }

    [Fact]
    public void Assistant_with_text_and_calls_keeps_its_text()
    {
        var m = OpenAIFormat.CreateOpenAIMessage("assistant", "Let me check.", toolCalls: WeatherCall());
        var o = OpenAIFormat.ToOpenAI(m);
        Assert.Equal("Let me check.", o["content"]!.GetValue<string>());
    }

    [Fact]
    public void FromOpenAI_round_trips_to_identical_json()
    {
        var json = """
            [
              {"role":"system","content":"Be brief."},
              {"role":"user","content":"Weather?","name":"alice"},
              {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},{"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{}"}}]},
              {"role":"tool","content":"18C","tool_call_id":"call_1"},
              {"role":"tool","content":"12:00","tool_call_id":"call_2"},
              {"role":"assistant","content":null,"function_call":{"name":"f","arguments":"{}"}},
              {"role":"function","content":"ok","name":"f"},
              {"role":"assistant","content":"It is 18C at noon."}
            ]
            """;
        var original = JsonNode.Parse(json)!.AsArray();

        var messages = OpenAIFormat.MessagesFromOpenAIFormat(original);
        var again = OpenAIFormat.MessagesToOpenAIFormat(messages);

        Assert.Equal(8, messages.Count);
        Assert.Equal(
            [MessageRole.System, MessageRole.User, MessageRole.Assistant, MessageRole.Tool, MessageRole.Tool, MessageRole.Assistant, MessageRole.Function, MessageRole.Assistant],
            messages.Select(m => m.Role));
        Assert.Equal("call_2", messages[4].ToolCallId);
        Assert.True(JsonNode.DeepEquals(original, again), again.ToJsonString());
    }

    [Fact]
    public void FromOpenAI_reads_content_parts_keeping_text()
    {
        var o = JsonNode.Parse("""
            {"role":"user","content":[
              {"type":"text","text":"Look at "},
              {"type":"image_url","image_url":{"url":"https://example.com/a.png"}},
              {"type":"text","text":"this."}
            ]}
            """)!.AsObject();
        var m = OpenAIFormat.FromOpenAI(o);
        Assert.Equal(MessageRole.User, m.Role);
        Assert.Equal("Look at this.", m.Content);
    }

    [Fact]
    public void FromOpenAI_rejects_malformed_objects()
    {
        Assert.Throws<InvalidMessageException>(() => OpenAIFormat.FromOpenAI(JsonNode.Parse("""{"content":"x"}""")!.AsObject()));
        Assert.Throws<InvalidMessageException>(() => OpenAIFormat.FromOpenAI(JsonNode.Parse("""{"role":"user","content":5}""")!.AsObject()));
        Assert.Throws<InvalidMessageException>(() => OpenAIFormat.FromOpenAI(JsonNode.Parse("""{"role":"robot","content":"x"}""")!.AsObject()));
        Assert.Throws<InvalidMessageException>(() => OpenAIFormat.MessagesFromOpenAIFormat(JsonNode.Parse("""["x"]""")!.AsArray()));
    }

    [Theory]
    [InlineData("""{"role":"tool","content":"x","tool_call_id":5}""")]
    [InlineData("""{"role":"user","content":"x","name":{"first":"a"}}""")]
    [InlineData("""{"role":"assistant","content":"hi","tool_calls":{"id":"c1"}}""")]
    [InlineData("""{"role":"assistant","content":"hi","function_call":"f"}""")]
    [InlineData("""{"role":"user","content":[{"type":"text","text":7}]}""")]
    public void FromOpenAI_wrongly_typed_fields_are_invalid_messages(string json) =>
        Assert.Throws<InvalidMessageException>(() => OpenAIFormat.FromOpenAI(JsonNode.Parse(json)!.AsObject()));
}
