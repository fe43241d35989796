using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace LangSwarm.Memory;

/// <summary>
/// The contents of a <see cref="ChatMessage"/> that a <see cref="Message"/> has no field for, kept in the message's
/// metadata under <see cref="Key"/> so the chat message reads back as it was written. The text pieces stay in
/// <see cref="Message.Content"/> (concatenated) and the calls in <see cref="Message.ToolCalls"/>; the layout lists
/// every content in order: <c>{"kind":"text","length":n}</c> for a plain text piece, <c>{"kind":"call"}</c> for the
/// next tool call, and <c>{"kind":"content","value":...}</c> for any other content, serialized with
/// Microsoft.Extensions.AI's own polymorphic JSON (<see cref="AIJsonUtilities.DefaultOptions"/>; data, URI, usage,
/// reasoning, error, hosted file and text with annotations alike). Messages with plain text and calls in that
/// order get no layout: they are stored exactly as before.
/// </summary>
internal static class ChatContentLayout
{
    /// <summary>The metadata key of the layout.</summary>
    public const string Key = "ai_contents";

    private static JsonSerializerOptions Json => AIJsonUtilities.DefaultOptions;

    /// <summary>True when <paramref name="content"/> has a field of its own in a <see cref="Message"/> (plain text, a call, a result).</summary>
    public static bool IsNative(AIContent content) => content switch
    {
        TextContent t => t.Annotations is not { Count: > 0 } && t.AdditionalProperties is not { Count: > 0 },
        FunctionCallContent or FunctionResultContent => true,
        _ => false,
    };

    /// <summary>
    /// The layout of a chat message's contents other than function results, or null when the message needs none
    /// (only native contents, at most one text piece, no text after a call).
    /// </summary>
    public static JsonArray? Build(IEnumerable<AIContent> contents)
    {
        var layout = new JsonArray();
        var needed = false;
        var texts = 0;
        var sawCall = false;
        foreach (var c in contents)
        {
            switch (c)
            {
                case FunctionResultContent:
                    break;
                case TextContent t when IsNative(t):
                    needed |= ++texts > 1 || sawCall;
                    layout.Add(new JsonObject { ["kind"] = "text", ["length"] = t.Text.Length });
                    break;
                case TextContent t:
                    // Annotated text keeps its annotations here and its text in Message.Content too.
                    needed = true;
                    texts++;
                    layout.Add(new JsonObject { ["kind"] = "content", ["value"] = JsonSerializer.SerializeToNode(t, Json.GetTypeInfo(typeof(AIContent))) });
                    break;
                case FunctionCallContent:
                    sawCall = true;
                    layout.Add(new JsonObject { ["kind"] = "call" });
                    break;
                default:
                    needed = true;
                    layout.Add(new JsonObject { ["kind"] = "content", ["value"] = JsonSerializer.SerializeToNode(c, Json.GetTypeInfo(typeof(AIContent))) });
                    break;
            }
        }
        return needed ? layout : null;
    }

    /// <summary>Stand-in text for a message whose only contents have no text (<c>[image/png]</c>, <c>[reasoning]</c>).</summary>
    public static string Placeholder(IEnumerable<AIContent> contents) =>
        string.Join(" ", contents.Where(c => !IsNative(c)).Select(c => c switch
        {
            DataContent d => $"[{d.MediaType}]",
            UriContent u => $"[{u.MediaType} {u.Uri}]",
            UsageContent => "[usage]",
            TextReasoningContent => "[reasoning]",
            TextContent t => t.Text,
            _ => $"[{c.GetType().Name}]",
        }));

    /// <summary>
    /// The contents of a stored message by its layout: text pieces cut from <paramref name="text"/>, calls taken in
    /// order from <paramref name="calls"/>. Null when the layout is missing or does not match the message.
    /// </summary>
    public static List<AIContent>? Read(JsonNode? layout, string text, IReadOnlyList<AIContent> calls)
    {
        if (layout is not JsonArray items)
        {
            return null;
        }
        var result = new List<AIContent>(items.Count);
        var at = 0;
        var call = 0;
        try
        {
            foreach (var item in items)
            {
                switch (JsonRead.String(JsonRead.Member(item, "kind")))
                {
                    case "text":
                        var length = JsonRead.Member(item, "length")?.GetValue<int>() ?? -1;
                        if (length < 0 || at + length > text.Length)
                        {
                            return null;
                        }
                        result.Add(new TextContent(text.Substring(at, length)));
                        at += length;
                        break;
                    case "call":
                        if (call >= calls.Count)
                        {
                            return null;
                        }
                        result.Add(calls[call++]);
                        break;
                    case "content":
                        if (JsonRead.Member(item, "value")?.Deserialize(Json.GetTypeInfo(typeof(AIContent))) is not AIContent content)
                        {
                            return null;
                        }
                        result.Add(content);
                        if (content is TextContent annotated)
                        {
                            at += annotated.Text.Length; // annotated text is in Message.Content too
                        }
                        break;
                    default:
                        return null;
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or NotSupportedException)
        {
            return null;
        }
        // Calls the layout does not list (added to the message after it was stored) still come back.
        for (; call < calls.Count; call++)
        {
            result.Add(calls[call]);
        }
        return result;
    }
}
