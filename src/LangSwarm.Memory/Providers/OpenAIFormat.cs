using System.Text.Json.Nodes;

namespace LangSwarm.Memory;

/// <summary>OpenAI Chat Completions message format, both ways.</summary>
public static class OpenAIFormat
{
    /// <summary>
    /// Creates a message from OpenAI's fields (the seed's <c>create_openai_message</c>). <paramref name="content"/>
    /// may be null for an assistant turn that only calls a function or tools.
    /// </summary>
    /// <exception cref="InvalidMessageException">Unknown role, or neither content nor calls.</exception>
    public static Message CreateOpenAIMessage(
        string role,
        string? content,
        JsonObject? functionCall = null,
        JsonArray? toolCalls = null,
        string? name = null,
        string? toolCallId = null)
    {
        var message = new Message(MessageRoles.Parse(role), content ?? string.Empty)
        {
            FunctionCall = (JsonObject?)functionCall?.DeepClone(),
            ToolCalls = toolCalls is { Count: > 0 } ? (JsonArray)toolCalls.DeepClone() : null,
        };
        if (name is not null)
        {
            message.Metadata["name"] = name;
        }
        if (toolCallId is not null)
        {
            message.Metadata["tool_call_id"] = toolCallId;
        }
        MessageValidator.ValidateMessage(message);
        return message;
    }

    /// <summary>One message as an OpenAI request message.</summary>
    public static JsonObject ToOpenAI(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var o = new JsonObject { ["role"] = message.Role.ToWireName() };
        // OpenAI wants null content on a call-only assistant turn, text otherwise.
        o["content"] = message.Content.Length == 0 && message.HasCalls ? null : message.Content;
        if (message.MetadataName() is { } name)
        {
            o["name"] = name;
        }
        if (message.ToolCalls is { Count: > 0 } calls)
        {
            o["tool_calls"] = calls.DeepClone();
        }
        if (message.FunctionCall is { } fc)
        {
            o["function_call"] = fc.DeepClone();
        }
        if (message.Role == MessageRole.Tool && message.ToolCallId is { } id)
        {
            o["tool_call_id"] = id;
        }
        return o;
    }

    /// <summary>Messages as the <c>messages</c> array of a Chat Completions request (the seed's <c>messages_to_openai_format</c>).</summary>
    public static JsonArray MessagesToOpenAIFormat(IEnumerable<Message> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var a = new JsonArray();
        foreach (var m in messages)
        {
            a.Add(ToOpenAI(m));
        }
        return a;
    }

    /// <summary>Reads an OpenAI message back.</summary>
    /// <exception cref="InvalidMessageException">The object is not an OpenAI chat message.</exception>
    public static Message FromOpenAI(JsonObject message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var role = message["role"] is JsonValue r && r.TryGetValue<string>(out var rs) ? rs : throw new InvalidMessageException("OpenAI message has no 'role'.");
        string? content = message["content"] switch
        {
            null => null,
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            // Content parts: keep the text parts.
            JsonArray parts => string.Concat(parts.Select(p => p is JsonObject part && OptionalString(part, "type") == "text" ? OptionalString(part, "text") : null)),
            _ => throw new InvalidMessageException("OpenAI message 'content' must be a string, an array of parts or null."),
        };
        return CreateOpenAIMessage(
            role,
            content,
            message["function_call"] switch
            {
                null => null,
                JsonObject fc => fc,
                _ => throw new InvalidMessageException("OpenAI message 'function_call' must be an object."),
            },
            message["tool_calls"] switch
            {
                null => null,
                JsonArray calls => calls,
                _ => throw new InvalidMessageException("OpenAI message 'tool_calls' must be an array."),
            },
            OptionalString(message, "name"),
            OptionalString(message, "tool_call_id"));
    }

    private static string? OptionalString(JsonObject o, string key) => o[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => throw new InvalidMessageException($"OpenAI message '{key}' must be a string."),
    };

    /// <summary>Reads a Chat Completions <c>messages</c> array back.</summary>
    public static List<Message> MessagesFromOpenAIFormat(JsonArray messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var list = new List<Message>(messages.Count);
        foreach (var m in messages)
        {
            list.Add(FromOpenAI(m as JsonObject ?? throw new InvalidMessageException("Each OpenAI message must be an object.")));
        }
        return list;
    }

    internal static string? MetadataName(this Message m) =>
        m.Metadata.TryGetPropertyValue("name", out var n) ? JsonRead.String(n) : null;
}
