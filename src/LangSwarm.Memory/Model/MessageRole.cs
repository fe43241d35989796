namespace LangSwarm.Memory;

/// <summary>The author of a message, aligned with the roles of the major LLM providers.</summary>
public enum MessageRole : byte
{
    /// <summary>Instructions that frame the conversation.</summary>
    System = 0,
    /// <summary>A human turn.</summary>
    User = 1,
    /// <summary>A model turn; may carry tool or function calls.</summary>
    Assistant = 2,
    /// <summary>The result of a tool call, answering an assistant's <c>tool_calls</c> entry.</summary>
    Tool = 3,
    /// <summary>OpenAI's legacy <c>function</c> role: the result of a <c>function_call</c>.</summary>
    Function = 4,
}

/// <summary>Parsing and naming of <see cref="MessageRole"/> values as the providers spell them.</summary>
public static class MessageRoles
{
    /// <summary>The lower-case wire name of a role (<c>"system"</c>, <c>"user"</c>, ...).</summary>
    public static string ToWireName(this MessageRole role) => role switch
    {
        MessageRole.System => "system",
        MessageRole.User => "user",
        MessageRole.Assistant => "assistant",
        MessageRole.Tool => "tool",
        MessageRole.Function => "function",
        _ => throw new InvalidMessageException($"Unknown message role value {(int)role}. Valid roles: system, user, assistant, tool, function."),
    };

    /// <summary>Parses a provider role name, case-insensitively.</summary>
    /// <exception cref="InvalidMessageException">The name is not a known role.</exception>
    public static MessageRole Parse(string? name)
    {
        if (TryParse(name, out var role))
        {
            return role;
        }
        throw new InvalidMessageException($"Unknown message role '{name}'. Valid roles: system, user, assistant, tool, function.");
    }

    /// <summary>Parses a provider role name, case-insensitively; false when unknown.</summary>
    public static bool TryParse(string? name, out MessageRole role)
    {
        switch (name?.Trim().ToLowerInvariant())
        {
            case "system": role = MessageRole.System; return true;
            case "developer": role = MessageRole.System; return true;
            case "user": role = MessageRole.User; return true;
            case "assistant": role = MessageRole.Assistant; return true;
            case "tool": role = MessageRole.Tool; return true;
            case "function": role = MessageRole.Function; return true;
            default: role = default; return false;
        }
    }

    /// <summary>True when the value is a defined role.</summary>
    public static bool IsDefined(MessageRole role) => (byte)role <= (byte)MessageRole.Function;
}
