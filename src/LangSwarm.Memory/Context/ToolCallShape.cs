using System.Text.Json;
using System.Text.Json.Nodes;

namespace LangSwarm.Memory;

/// <summary>
/// The shape of OpenAI calls a message may carry, checked on add so that every reader of stored calls
/// (summaries, provider formats, token counts) finds what the format documents.
/// </summary>
/// <remarks>
/// <c>tool_calls</c>: an array (empty is allowed) of objects; <c>id</c> and <c>type</c>, when present and not null,
/// are strings; <c>function</c> is an object with a string <c>name</c> and, when present and not null,
/// <c>arguments</c> as a string (OpenAI's JSON text) or an object (as other SDKs pass them). A call whose
/// <c>type</c> names another kind of tool (not <c>"function"</c>) may leave <c>function</c> out. Further members are
/// kept as they are. <c>function_call</c>: an object with the same rules as <c>function</c>.
/// </remarks>
internal static class ToolCallShape
{
    /// <summary>The first shape problem of a tool_calls array, or null.</summary>
    public static string? CheckToolCalls(JsonArray calls)
    {
        for (var i = 0; i < calls.Count; i++)
        {
            var where = $"tool_calls[{i}]";
            if (calls[i] is not JsonObject call)
            {
                return $"{where} must be an object (found {Kind(calls[i])}).";
            }
            if ((OptionalStringProblem(call, "id", where) ?? OptionalStringProblem(call, "type", where)) is { } problem)
            {
                return problem;
            }
            call.TryGetPropertyValue("function", out var function);
            switch (function)
            {
                case JsonObject f:
                    if (CheckFunction(f, where + ".function") is { } fnProblem)
                    {
                        return fnProblem;
                    }
                    break;
                case null when call.TryGetPropertyValue("type", out var type) && type is not null && JsonRead.String(type) != "function":
                    break; // another kind of tool call: nothing more to check
                case null:
                    return $"{where} has no 'function' object (OpenAI: {{\"id\":..., \"type\":\"function\", \"function\":{{\"name\":..., \"arguments\":...}}}}).";
                default:
                    return $"{where}.function must be an object (found {Kind(function)}).";
            }
        }
        return null;
    }

    /// <summary>The first shape problem of a function_call object (or a tool call's function), or null.</summary>
    public static string? CheckFunction(JsonObject function, string where)
    {
        if (!function.TryGetPropertyValue("name", out var name) || name is null)
        {
            return $"{where} has no 'name'.";
        }
        if (!IsString(name))
        {
            return $"{where}.name must be a string (found {Kind(name)}).";
        }
        if (function.TryGetPropertyValue("arguments", out var arguments) && arguments is not null && arguments is not JsonObject && !IsString(arguments))
        {
            return $"{where}.arguments must be a string of JSON text or an object (found {Kind(arguments)}).";
        }
        return null;
    }

    private static string? OptionalStringProblem(JsonObject o, string key, string where) =>
        o.TryGetPropertyValue(key, out var v) && v is not null && !IsString(v) ? $"{where}.{key} must be a string (found {Kind(v)})." : null;

    private static bool IsString(JsonNode node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.String;

    private static string Kind(JsonNode? node) => node is null ? "null" : node.GetValueKind().ToString().ToLowerInvariant();
}
