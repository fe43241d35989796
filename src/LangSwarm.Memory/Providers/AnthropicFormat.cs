using System.Text.Json;
using System.Text.Json.Nodes;

namespace LangSwarm.Memory;

/// <summary>An Anthropic Messages API request body: the system prompt apart, then the turns.</summary>
/// <param name="System">System messages joined, or null when there were none.</param>
/// <param name="Messages">The <c>messages</c> array.</param>
public sealed record AnthropicConversation(string? System, JsonArray Messages);

/// <summary>Anthropic Messages API format, both ways.</summary>
public static class AnthropicFormat
{
    /// <summary>Creates a text message (the seed's <c>create_anthropic_message(role, text)</c>).</summary>
    public static Message CreateAnthropicMessage(string role, string content)
    {
        var m = new Message(ParseRole(role), content ?? string.Empty);
        MessageValidator.ValidateMessage(m);
        return m;
    }

    /// <summary>
    /// Creates a message from content blocks: <c>text</c> blocks become the content, <c>tool_use</c> blocks
    /// become tool calls, and a single <c>tool_result</c> block makes a tool message.
    /// </summary>
    /// <exception cref="InvalidMessageException">Unknown role or block type, or several tool results (use <see cref="MessagesFromAnthropicFormat"/>).</exception>
    public static Message CreateAnthropicMessage(string role, JsonArray content)
    {
        ArgumentNullException.ThrowIfNull(content);
        var list = FromAnthropic(ParseRole(role), content);
        if (list.Count != 1)
        {
            throw new InvalidMessageException("These content blocks make several messages (several tool results); use MessagesFromAnthropicFormat.");
        }
        return list[0];
    }

    /// <summary>
    /// Messages as an Anthropic request (the seed's <c>messages_to_anthropic_format</c>): system messages lifted
    /// into <see cref="AnthropicConversation.System"/>, tool calls as <c>tool_use</c> blocks, tool results as
    /// <c>tool_result</c> blocks in a user turn, consecutive same-role turns merged.
    /// </summary>
    public static AnthropicConversation MessagesToAnthropicFormat(IEnumerable<Message> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var system = new List<string>();
        var turns = new JsonArray();
        string? lastRole = null;
        // Ids made for calls that carry none, with their function names, waiting for results without a
        // tool_call_id; the last one made answers any further such result (legacy function results).
        var pending = new List<(string Id, string Name)>();
        string? lastMadeId = null;
        foreach (var m in messages)
        {
            if (m.Role == MessageRole.System)
            {
                system.Add(m.Content);
                continue;
            }
            var role = m.Role == MessageRole.Assistant ? "assistant" : "user";
            var blocks = new JsonArray();
            switch (m.Role)
            {
                case MessageRole.Assistant:
                    if (m.Content.Length > 0)
                    {
                        blocks.Add(Text(m.Content));
                    }
                    if (m.ToolCalls is { Count: > 0 } || m.FunctionCall is not null)
                    {
                        pending.Clear();
                        lastMadeId = null;
                    }
                    // Calls are read without trusting their shape (JsonRead): an odd member takes a default. A call
                    // without an id gets one of its own (message id and position), so several never share one.
                    var index = 0;
                    foreach (var call in m.ToolCalls ?? [])
                    {
                        var function = JsonRead.Member(call, "function");
                        var name = JsonRead.String(JsonRead.Member(function, "name")) ?? "unknown";
                        var id = JsonRead.String(JsonRead.Member(call, "id"));
                        if (id is null)
                        {
                            id = lastMadeId = $"toolu_{m.MessageId}_{index}";
                            pending.Add((id, name));
                        }
                        index++;
                        blocks.Add(new JsonObject
                        {
                            ["type"] = "tool_use",
                            ["id"] = id,
                            ["name"] = name,
                            ["input"] = ParseArguments(JsonRead.Member(function, "arguments")),
                        });
                    }
                    if (m.FunctionCall is { } fc)
                    {
                        var name = JsonRead.String(JsonRead.Member(fc, "name")) ?? "unknown";
                        lastMadeId = "toolu_" + m.MessageId;
                        pending.Add((lastMadeId, name));
                        blocks.Add(new JsonObject
                        {
                            ["type"] = "tool_use",
                            ["id"] = lastMadeId,
                            ["name"] = name,
                            ["input"] = ParseArguments(JsonRead.Member(fc, "arguments")),
                        });
                    }
                    break;
                case MessageRole.Tool:
                case MessageRole.Function:
                    var result = new JsonObject
                    {
                        ["type"] = "tool_result",
                        ["tool_use_id"] = m.ToolCallId ?? TakePending(pending, m.Name) ?? lastMadeId ?? "toolu_unknown",
                        ["content"] = m.Content,
                    };
                    if (m.Metadata["is_error"] is JsonValue err && err.TryGetValue<bool>(out var isError) && isError)
                    {
                        result["is_error"] = true;
                    }
                    blocks.Add(result);
                    break;
                default:
                    blocks.Add(Text(m.Content));
                    break;
            }
            if (blocks.Count == 0)
            {
                continue;
            }
            if (lastRole == role && turns[^1] is JsonObject previous)
            {
                // Anthropic requires alternating roles: merge into the previous turn.
                var merged = previous["content"] is JsonArray arr ? arr : ToBlocks(previous);
                foreach (var b in blocks.ToList())
                {
                    blocks.Remove(b);
                    merged.Add(b);
                }
                previous["content"] = merged;
            }
            else
            {
                turns.Add(new JsonObject
                {
                    ["role"] = role,
                    ["content"] = blocks.Count == 1 && blocks[0]?["type"]?.GetValue<string>() == "text" ? blocks[0]!["text"]!.GetValue<string>() : blocks,
                });
                lastRole = role;
            }
        }
        return new AnthropicConversation(system.Count == 0 ? null : string.Join("\n\n", system), turns);
    }

    /// <summary>Reads an Anthropic request back into universal messages (system prompt first, if any).</summary>
    public static List<Message> MessagesFromAnthropicFormat(AnthropicConversation conversation)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        var list = new List<Message>();
        if (!string.IsNullOrEmpty(conversation.System))
        {
            list.Add(new Message(MessageRole.System, conversation.System));
        }
        foreach (var node in conversation.Messages)
        {
            var o = node as JsonObject ?? throw new InvalidMessageException("Each Anthropic message must be an object.");
            var role = ParseRole(OptionalString(o, "role"));
            switch (o["content"])
            {
                case JsonValue v when v.TryGetValue<string>(out var text):
                    list.Add(CreateAnthropicMessage(role.ToWireName(), text));
                    break;
                case JsonArray blocks:
                    list.AddRange(FromAnthropic(role, blocks));
                    break;
                default:
                    throw new InvalidMessageException("Anthropic message 'content' must be a string or an array of blocks.");
            }
        }
        return list;
    }

    private static List<Message> FromAnthropic(MessageRole role, JsonArray content)
    {
        var result = new List<Message>();
        var text = new List<string>();
        var calls = new JsonArray();
        // Where the text/tool_use message goes among the tool results: before them when its first block
        // comes first, after them when it follows (a user's text after tool results stays after them).
        var textAt = -1;
        foreach (var node in content)
        {
            var block = node as JsonObject ?? throw new InvalidMessageException("Each Anthropic content block must be an object.");
            var type = OptionalString(block, "type");
            if (type is ("text" or "tool_use") && textAt < 0)
            {
                textAt = result.Count;
            }
            switch (type)
            {
                case "text":
                    text.Add(OptionalString(block, "text") ?? string.Empty);
                    break;
                case "tool_use":
                    calls.Add(new JsonObject
                    {
                        ["id"] = OptionalString(block, "id"),
                        ["type"] = "function",
                        ["function"] = new JsonObject
                        {
                            ["name"] = OptionalString(block, "name"),
                            ["arguments"] = JsonRead.Text(block["input"] ?? new JsonObject(), "tool_use input"),
                        },
                    });
                    break;
                case "tool_result":
                    var resultText = block["content"] switch
                    {
                        null => string.Empty,
                        JsonArray parts => string.Concat(parts.Select(p => JsonRead.String(JsonRead.Member(p, "text")))),
                        var other => JsonRead.String(other) ?? JsonRead.Text(other, "tool_result content"),
                    };
                    var tool = new Message(MessageRole.Tool, resultText.Length == 0 ? "(empty result)" : resultText);
                    tool.Metadata["tool_call_id"] = OptionalString(block, "tool_use_id");
                    if (JsonRead.Bool(block["is_error"]) == true)
                    {
                        tool.Metadata["is_error"] = true;
                    }
                    result.Add(tool);
                    break;
                default:
                    throw new InvalidMessageException($"Unsupported Anthropic content block type '{type}'. Supported: text, tool_use, tool_result.");
            }
        }
        if (text.Count > 0 || calls.Count > 0)
        {
            var m = new Message(role == MessageRole.Tool ? MessageRole.User : role, string.Join("\n", text))
            {
                ToolCalls = calls.Count > 0 ? calls : null,
            };
            MessageValidator.ValidateMessage(m);
            result.Insert(textAt, m);
        }
        return result;
    }

    private static MessageRole ParseRole(string? role)
    {
        var r = MessageRoles.Parse(role);
        return r;
    }

    private static JsonObject Text(string text) => new() { ["type"] = "text", ["text"] = text };

    private static JsonArray ToBlocks(JsonObject turn)
    {
        var content = turn["content"];
        return content is JsonValue v && v.TryGetValue<string>(out var s) ? [Text(s)] : [];
    }

    private static JsonNode ParseArguments(JsonNode? arguments)
    {
        if (JsonRead.String(arguments) is { } s)
        {
            // Text that is not JSON the API would store (not JSON, too deep, unpaired surrogates) stays raw.
            return JsonRead.TryParseArguments(s, out var parsed) ? parsed ?? new JsonObject() : new JsonObject { ["raw"] = s };
        }
        return arguments?.DeepClone() ?? new JsonObject();
    }

    /// <summary>
    /// The id a result without a <c>tool_call_id</c> answers: the first waiting call of its function when it names
    /// one, else the first waiting call; null when none waits.
    /// </summary>
    private static string? TakePending(List<(string Id, string Name)> pending, string? functionName)
    {
        if (pending.Count == 0)
        {
            return null;
        }
        var at = functionName is null ? -1 : pending.FindIndex(p => string.Equals(p.Name, functionName, StringComparison.Ordinal));
        if (at < 0)
        {
            at = 0;
        }
        var id = pending[at].Id;
        pending.RemoveAt(at);
        return id;
    }

    /// <summary>A string member of a caller's Anthropic JSON, or null; any other kind is an invalid message.</summary>
    private static string? OptionalString(JsonObject o, string key) => o[key] switch
    {
        null => null,
        var v => JsonRead.String(v) ?? throw new InvalidMessageException($"Anthropic '{key}' must be a string."),
    };
}
