using System.Text.Json;
using System.Text.Json.Nodes;

namespace LangSwarm.Memory;

/// <summary>
/// Reads members of caller-supplied or stored JSON without trusting its shape: a member of a non-object, or a
/// string that is not one (or cannot be read as one), is simply absent. Readers of tool calls use these so an odd
/// shape never surfaces as an <see cref="InvalidOperationException"/>.
/// </summary>
internal static class JsonRead
{
    /// <summary>The member <paramref name="key"/> of <paramref name="node"/> when it is an object, else null.</summary>
    public static JsonNode? Member(JsonNode? node, string key) =>
        node is JsonObject o && o.TryGetPropertyValue(key, out var value) ? value : null;

    /// <summary>The string <paramref name="node"/> holds, or null when it holds anything else or unreadable text.</summary>
    public static string? String(JsonNode? node)
    {
        if (node is not JsonValue v)
        {
            return null;
        }
        try
        {
            return v.TryGetValue<string>(out var s) ? s : null;
        }
        catch (InvalidOperationException)
        {
            return null; // a parsed string with an unpaired surrogate escape or invalid UTF-8
        }
    }

    /// <summary>The boolean <paramref name="node"/> holds, or null.</summary>
    public static bool? Bool(JsonNode? node)
    {
        if (node is not JsonValue v)
        {
            return null;
        }
        return v.TryGetValue<bool>(out var b) ? b : null;
    }

    /// <summary>
    /// Parses tool-call arguments given as JSON text; false when the text is not JSON, or not JSON the API would
    /// store (too deep, unpaired surrogates), so callers fall back to the raw text.
    /// </summary>
    public static bool TryParseArguments(string text, out JsonNode? node)
    {
        try
        {
            node = JsonNode.Parse(text, null, MemoryLimits.JsonReadOptions);
        }
        catch (JsonException)
        {
            node = null;
            return false;
        }
        long length = 0;
        if (node is not null && JsonLimitChecker.Check(node, "Arguments", "Arguments are too long.", ref length) is not null)
        {
            node = null;
            return false;
        }
        return true;
    }

    /// <summary>The compact JSON text of <paramref name="node"/>; a node JSON cannot write is an invalid message.</summary>
    /// <exception cref="InvalidMessageException">The node holds a value JSON cannot write.</exception>
    public static string Text(JsonNode node, string what)
    {
        try
        {
            return node.ToJsonString();
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or JsonException or NotSupportedException)
        {
            // The exception's kind, not its text: it may quote the value (content must not reach errors or logs).
            throw new InvalidMessageException($"Message {what} cannot be written as JSON ({ex.GetType().Name}).");
        }
    }
}
