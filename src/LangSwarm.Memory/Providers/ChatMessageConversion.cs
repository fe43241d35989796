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
    /// up (legacy function calling has one call outstanding at a time).
    /// </summary>
    public static ChatMessage ToChatMessage(this Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var contents = new List<AIContent>();
        if (message.Role is MessageRole.Tool or MessageRole.Function)
        {
            contents.Add(new FunctionResultContent(message.ToolCallId ?? message.Name ?? "call_unknown", message.Content));
        }
        else if (message.Content.Length > 0)
        {
            contents.Add(new TextContent(message.Content));
        }
        // Calls are read without trusting their shape (JsonRead): a missing or odd member takes a default.
        foreach (var call in message.ToolCalls ?? [])
        {
            var fn = JsonRead.Member(call, "function");
            contents.Add(new FunctionCallContent(
                JsonRead.String(JsonRead.Member(call, "id")) ?? "call_" + message.MessageId,
                JsonRead.String(JsonRead.Member(fn, "name")) ?? "unknown",
                Arguments(JsonRead.Member(fn, "arguments"))));
        }
        if (message.FunctionCall is { } fc)
        {
            var name = JsonRead.String(JsonRead.Member(fc, "name")) ?? "unknown";
            contents.Add(new FunctionCallContent(name, name, Arguments(JsonRead.Member(fc, "arguments"))));
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
    /// message carries several.
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
            if (c is (TextContent or FunctionCallContent) && textAt < 0)
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
        if (text.Count > 0 || calls.Count > 0 || result.Count == 0)
        {
            var m = new Message(role == MessageRole.Tool ? MessageRole.User : role, string.Concat(text))
            {
                ToolCalls = calls.Count > 0 ? calls : null,
            };
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
