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
    /// <summary>The first shape problem of a tool_calls array, or null. Allocates nothing for a valid array.</summary>
    public static string? CheckToolCalls(JsonArray calls)
    {
        for (var i = 0; i < calls.Count; i++)
        {
            if (calls[i] is not JsonObject call)
            {
                return $"{Call(i)} must be an object (found {Kind(calls[i])}).";
            }
            if (!IsOptionalString(call, "id"))
            {
                return $"{Call(i)}.id must be a string (found {Kind(call["id"])}).";
            }
            if (!IsOptionalString(call, "type"))
            {
                return $"{Call(i)}.type must be a string (found {Kind(call["type"])}).";
            }
            call.TryGetPropertyValue("function", out var function);
            switch (function)
            {
                case JsonObject f:
                    if (CheckFunction(f, i) is { } fnProblem)
                    {
                        return fnProblem;
                    }
                    break;
                case null when call.TryGetPropertyValue("type", out var type) && type is not null && JsonRead.String(type) != "function":
                    break; // another kind of tool call: nothing more to check
                case null:
                    return $"{Call(i)} has no 'function' object (OpenAI: {{\"id\":..., \"type\":\"function\", \"function\":{{\"name\":..., \"arguments\":...}}}}).";
                default:
                    return $"{Call(i)}.function must be an object (found {Kind(function)}).";
            }
        }
        return null;
    }

    /// <summary>
    /// The first shape problem of a function_call object (<paramref name="callIndex"/> -1) or of the function of
    /// tool call <paramref name="callIndex"/>, or null.
    /// </summary>
    public static string? CheckFunction(JsonObject function, int callIndex = -1)
    {
        if (!function.TryGetPropertyValue("name", out var name) || name is null)
        {
            return $"{Function(callIndex)} has no 'name'.";
        }
        if (!IsString(name))
        {
            return $"{Function(callIndex)}.name must be a string (found {Kind(name)}).";
        }
        if (function.TryGetPropertyValue("arguments", out var arguments) && arguments is not null && arguments is not JsonObject && !IsString(arguments))
        {
            return $"{Function(callIndex)}.arguments must be a string of JSON text or an object (found {Kind(arguments)}).";
        }
        return null;
    }

    private static string Call(int i) => $"tool_calls[{i}]";

    private static string Function(int callIndex) => callIndex < 0 ? "function_call" : Call(callIndex) + ".function";

    private static bool IsOptionalString(JsonObject o, string key) => !o.TryGetPropertyValue(key, out var v) || v is null || IsString(v);

    private static bool IsString(JsonNode node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.String;

    private static string Kind(JsonNode? node) => node is null ? "null" : node.GetValueKind().ToString().ToLowerInvariant();
}
