namespace LangSwarm.Memory;

/// <summary>
/// The input rules every backend shares: ids, roles, content size and text validity, and the JSON limits of
/// <see cref="MemoryLimits"/>. Every backend runs them before it writes anything.
/// </summary>
public static class MessageValidator
{
    /// <summary>Longest session, user or message id, in UTF-16 code units (<see cref="MemoryLimits.MaxIdLength"/>).</summary>
    public const int MaxIdLength = MemoryLimits.MaxIdLength;

    /// <summary>Largest message content, in UTF-16 code units (4 Mi characters; <see cref="MemoryLimits.MaxContentLength"/>).</summary>
    public const int MaxContentLength = MemoryLimits.MaxContentLength;

    /// <summary>Checks a session id: non-empty, at most <see cref="MaxIdLength"/>, no control characters, valid UTF-16.</summary>
    /// <exception cref="ArgumentException">The id is invalid.</exception>
    public static void ValidateSessionId(string? sessionId, string paramName = "sessionId") => ValidateId(sessionId, paramName, "session id");

    /// <summary>Checks a user id with the same rules as a session id.</summary>
    public static void ValidateUserId(string? userId, string paramName = "userId") => ValidateId(userId, paramName, "user id");

    /// <summary>
    /// Checks a message before it is stored: role, content (size, valid UTF-16), id, token count, and its JSON
    /// members — metadata, function_call and tool_calls within the <see cref="MemoryLimits"/> (depth, valid UTF-16
    /// keys and strings, writable numbers, length), and calls of the documented OpenAI shape: <c>tool_calls</c> an
    /// array of objects whose <c>id</c> and <c>type</c> are strings and whose <c>function</c> is an object with a
    /// string <c>name</c> and string (or object) <c>arguments</c>; <c>function_call</c> an object of that
    /// <c>function</c> shape.
    /// </summary>
    /// <exception cref="InvalidMessageException">The message is malformed.</exception>
    public static void ValidateMessage(Message? message)
    {
        if (message is null)
        {
            throw new InvalidMessageException("Message is null.");
        }
        if (!MessageRoles.IsDefined(message.Role))
        {
            throw new InvalidMessageException($"Unknown message role value {(int)message.Role}. Valid roles: system, user, assistant, tool, function.");
        }
        if (message.Content is null)
        {
            throw new InvalidMessageException("Message content is null; use an empty string for a call-only assistant turn.");
        }
        if (message.Content.Length == 0 && !message.HasCalls)
        {
            throw new InvalidMessageException("Message content is empty; only an assistant turn with tool or function calls may have no text.");
        }
        if (message.Content.Length > MaxContentLength)
        {
            throw new InvalidMessageException($"Message content has {message.Content.Length} characters; the maximum is {MaxContentLength}.");
        }
        if (!IsValidUtf16(message.Content))
        {
            throw new InvalidMessageException("Message content is not valid UTF-16 (it holds an unpaired surrogate).");
        }
        ValidateId(message.MessageId, nameof(message.MessageId), "message id", asMessageError: true);
        if (message.TokenCount is < 0)
        {
            throw new InvalidMessageException("Message token count is negative.");
        }
        if (MemoryLimits.FindMessageJsonProblem(message) is { } problem)
        {
            throw new InvalidMessageException(problem);
        }
    }

    /// <summary>True when the text holds no unpaired surrogate.</summary>
    public static bool IsValidUtf16(ReadOnlySpan<char> text) => !HasLoneSurrogate(text);

    private static bool HasLoneSurrogate(ReadOnlySpan<char> text)
    {
        // Most text holds no surrogate at all: a vectorized search skips it whole (a char-by-char scan of a
        // 1-KB message was a tenth of an add's time). The exact pairing check starts at the first surrogate.
        var first = text.IndexOfAnyInRange('\uD800', '\uDFFF');
        if (first < 0)
        {
            return false;
        }
        for (var i = first; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c))
            {
                if (i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]))
                {
                    return true;
                }
                i++;
            }
            else if (char.IsLowSurrogate(c))
            {
                return true;
            }
        }
        return false;
    }

    private static void ValidateId(string? id, string paramName, string what, bool asMessageError = false)
    {
        string? problem = null;
        if (string.IsNullOrWhiteSpace(id))
        {
            problem = $"The {what} is empty.";
        }
        else if (id.Length > MaxIdLength)
        {
            problem = $"The {what} has {id.Length} characters; the maximum is {MaxIdLength}.";
        }
        else
        {
            foreach (var c in id)
            {
                if (char.IsControl(c))
                {
                    problem = $"The {what} holds a control character (U+{(int)c:X4}).";
                    break;
                }
            }
            if (problem is null && HasLoneSurrogate(id))
            {
                problem = $"The {what} is not valid UTF-16.";
            }
        }
        if (problem is not null)
        {
            if (asMessageError)
            {
                throw new InvalidMessageException(problem);
            }
            throw new ArgumentException(problem, paramName);
        }
    }
}
