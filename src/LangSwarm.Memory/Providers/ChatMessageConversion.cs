using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace LangSwarm.Memory;

/// <summary>Conversion to and from <see cref="ChatMessage"/>, the chat type of Microsoft.Extensions.AI.</summary>
public static class ChatMessageConversion
{
    /// <summary>
    /// A stored message as a <see cref="ChatMessage"/>: text, function calls and function results as AI contents.
    /// A legacy <c>function_call</c> carries no id, so its call id is the function's name, the id a function
    /// result without a <c>tool_call_id</c> gets from its <c>name</c>: a call and the result that follows it pair
    /// up (legacy function calling has one call outstanding at a time). Contents a message has no field for (data,
    /// URI, usage, reasoning, ...) come back from its metadata as <see cref="FromChatMessage"/> stored them, in
    /// their original order (see <c>ai_contents</c> in the README).
    /// </summary>
    public static ChatMessage ToChatMessage(this Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var contents = new List<AIContent>();
        var calls = Calls(message);
        if (message.Role is MessageRole.Tool or MessageRole.Function)
        {
            contents.Add(new FunctionResultContent(message.ToolCallId ?? message.Name ?? "call_unknown", message.Content));
            contents.AddRange(calls);
        }
        else if (message.Metadata.TryGetPropertyValue(ChatContentLayout.Key, out var layout)
            && ChatContentLayout.Read(layout, message.Content, calls) is { } laidOut)
        {
            contents.AddRange(laidOut);
        }
        else
        {
            if (message.Content.Length > 0)
            {
                contents.Add(new TextContent(message.Content));
            }
            contents.AddRange(calls);
        }
        var role = message.Role switch
        {
            MessageRole.System => ChatRole.System,
            MessageRole.User => ChatRole.User,
            MessageRole.Assistant => ChatRole.Assistant,
            _ => ChatRole.Tool,
        };
        return new ChatMessage(role, contents)
        {
            MessageId = message.MessageId,
            CreatedAt = message.Timestamp,
            AuthorName = message.MetadataName(),
        };
    }

    /// <summary>Stored messages as chat messages, in order.</summary>
    public static List<ChatMessage> ToChatMessages(this IEnumerable<Message> messages) => messages.Select(ToChatMessage).ToList();

    /// <summary>
    /// A chat message as stored messages: one message, or one tool message per function result when the chat
    /// message carries several. Text goes to <see cref="Message.Content"/>, calls to <see cref="Message.ToolCalls"/>,
    /// results to tool messages; any other content (data, URI, usage, reasoning, annotated text, ...) is kept in
    /// the message's metadata (<c>ai_contents</c>) with the order of all contents, so <see cref="ToChatMessage"/>
    /// gives it back unchanged. A message whose only contents have no text gets a stand-in text (<c>[image/png]</c>).
    /// </summary>
    public static List<Message> FromChatMessage(ChatMessage chatMessage)
    {
        ArgumentNullException.ThrowIfNull(chatMessage);
        var role = chatMessage.Role == ChatRole.System ? MessageRole.System
            : chatMessage.Role == ChatRole.User ? MessageRole.User
            : chatMessage.Role == ChatRole.Assistant ? MessageRole.Assistant
            : chatMessage.Role == ChatRole.Tool ? MessageRole.Tool
            : MessageRoles.Parse(chatMessage.Role.Value);
        var result = new List<Message>();
        var text = new List<string>();
        var calls = new JsonArray();
        // The text/call message goes before the results when it starts the contents, after them otherwise.
        var textAt = -1;
        foreach (var c in chatMessage.Contents)
        {
            if (c is not FunctionResultContent && textAt < 0)
            {
                textAt = result.Count;
            }
            switch (c)
            {
                case TextContent t:
                    text.Add(t.Text);
                    break;
                case FunctionCallContent f:
                    calls.Add(new JsonObject
                    {
                        ["id"] = f.CallId,
                        ["type"] = "function",
                        ["function"] = new JsonObject
                        {
                            ["name"] = f.Name,
                            ["arguments"] = JsonSerializer.Serialize(f.Arguments ?? new Dictionary<string, object?>()),
                        },
                    });
                    break;
                case FunctionResultContent r:
                    var content = r.Result switch
                    {
                        null => string.Empty,
                        string s => s,
                        JsonElement e => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText(),
                        var o => JsonSerializer.Serialize(o),
                    };
                    var tool = new Message(MessageRole.Tool, content.Length == 0 ? "(empty result)" : content);
                    tool.Metadata["tool_call_id"] = r.CallId;
                    result.Add(tool);
                    break;
            }
        }
        if (result.Count == 1 && text.Count == 0 && calls.Count == 0)
        {
            // One tool result: the inverse of ToChatMessage, keeping the message's id and time.
            if (chatMessage.MessageId is { Length: > 0 } resultId)
            {
                result[0].MessageId = resultId;
            }
            if (chatMessage.CreatedAt is { } resultAt)
            {
                result[0].Timestamp = resultAt;
            }
            MessageValidator.ValidateMessage(result[0]);
        }
        var layout = ChatContentLayout.Build(chatMessage.Contents);
        if (text.Count > 0 || calls.Count > 0 || layout is not null || result.Count == 0)
        {
            var content = string.Concat(text);
            var m = new Message(role == MessageRole.Tool ? MessageRole.User : role, content.Length == 0 && calls.Count == 0 ? ChatContentLayout.Placeholder(chatMessage.Contents) : content)
            {
                ToolCalls = calls.Count > 0 ? calls : null,
            };
            if (layout is not null)
            {
                m.Metadata[ChatContentLayout.Key] = layout;
            }
            if (chatMessage.MessageId is { Length: > 0 } id)
            {
                m.MessageId = id;
            }
            if (chatMessage.CreatedAt is { } at)
            {
                m.Timestamp = at;
            }
            if (chatMessage.AuthorName is { } name)
            {
                m.Metadata["name"] = name;
            }
            MessageValidator.ValidateMessage(m);
            result.Insert(Math.Max(textAt, 0), m);
        }
        return result;
    }

    /// <summary>The message's tool calls and legacy function call as call contents, in order.</summary>
    private static List<AIContent> Calls(Message message)
    {
        var calls = new List<AIContent>();
        // Calls are read without trusting their shape (JsonRead): a missing or odd member takes a default.
        foreach (var call in message.ToolCalls ?? [])
        {
            var fn = JsonRead.Member(call, "function");
            calls.Add(new FunctionCallContent(
                JsonRead.String(JsonRead.Member(call, "id")) ?? "call_" + message.MessageId,
                JsonRead.String(JsonRead.Member(fn, "name")) ?? "unknown",
                Arguments(JsonRead.Member(fn, "arguments"))));
        }
        if (message.FunctionCall is { } fc)
        {
            var name = JsonRead.String(JsonRead.Member(fc, "name")) ?? "unknown";
            calls.Add(new FunctionCallContent(name, name, Arguments(JsonRead.Member(fc, "arguments"))));
        }
        return calls;
    }

    private static Dictionary<string, object?>? Arguments(JsonNode? arguments)
    {
        JsonNode? parsed = arguments;
        if (JsonRead.String(arguments) is { } s)
        {
            // Text that is not JSON the API would store (not JSON, too deep, unpaired surrogates) stays raw.
            if (!JsonRead.TryParseArguments(s, out parsed))
            {
                return new Dictionary<string, object?> { ["raw"] = s };
            }
        }
        if (parsed is not JsonObject o)
        {
            return null;
        }
        var d = new Dictionary<string, object?>();
        foreach (var (k, val) in o)
        {
            if (val is null)
            {
                d[k] = null;
                continue;
            }
            using var doc = JsonDocument.Parse(JsonRead.Text(val, "arguments"), MemoryLimits.JsonReadOptions);
            d[k] = doc.RootElement.Clone();
        }
        return d;
    }
}
