using System.Text.Json;
using System.Text.Json.Nodes;

namespace LangSwarm.Memory;

/// <summary>
/// The input limits every backend shares. <see cref="MessageValidator"/> and the session paths of
/// <see cref="MemoryBackendBase"/> check them before anything is written, so every backend accepts and rejects
/// the same input, and every reader (the engine's payload reader, the SQLite and Redis mappings) reads at least
/// what they let through.
/// </summary>
/// <remarks>
/// JSON members — a message's <see cref="Message.Metadata"/>, <see cref="Message.FunctionCall"/> and
/// <see cref="Message.ToolCalls"/>, and a session's <see cref="SessionMetadata.Metadata"/> — are accepted when they
/// nest at most <see cref="MaxJsonDepth"/> levels, hold only valid UTF-16 text (no unpaired surrogate in a key or
/// a string, as for content), hold only numbers JSON can write (no NaN or infinity), and are at most
/// <see cref="MaxJsonLength"/> characters long. A message's tool and function calls must also have the shape
/// OpenAI documents (see <see cref="MessageValidator.ValidateMessage"/>).
/// </remarks>
public static class MemoryLimits
{
    /// <summary>Longest session, user or message id, in UTF-16 code units.</summary>
    public const int MaxIdLength = 256;

    /// <summary>Largest message content, in UTF-16 code units (4 Mi characters).</summary>
    public const int MaxContentLength = 4 * 1024 * 1024;

    /// <summary>
    /// Deepest nesting of a JSON member, counting its own object or array as level 1 (<c>{"a":{"b":[]}}</c> is
    /// 3 levels deep). 64 is System.Text.Json's default reader depth: any default <see cref="JsonDocument"/> or
    /// <see cref="JsonNode"/> parse reads every JSON member the API accepts.
    /// </summary>
    public const int MaxJsonDepth = 64;

    /// <summary>
    /// Longest JSON, in characters of its compact text with strings counted unescaped: a session's metadata, or
    /// a message's metadata, function_call and tool_calls together (512 Ki characters). With the largest content
    /// a message still fits one engine record (16 MiB) however its JSON is escaped.
    /// </summary>
    public const int MaxJsonLength = 512 * 1024;

    /// <summary>
    /// Most tool calls one message may carry (the entries of its <see cref="Message.ToolCalls"/> array). Every
    /// call is read again by each context build, summary and provider conversion; 128 is the number of tools
    /// OpenAI lets one request offer, far more than a model calls in one turn.
    /// </summary>
    public const int MaxToolCallsPerMessage = 128;

    /// <summary>
    /// Most messages one <see cref="IMemorySession.AddMessagesAsync"/> call may add. A batch is one atomic write
    /// (one commit-log append in the engine, one transaction in SQLite, one MULTI/EXEC in Redis) held whole in
    /// memory under the session's write lock; larger imports go in several batches.
    /// </summary>
    public const int MaxMessagesPerBatch = 10_000;

    /// <summary>
    /// Longest summary text a summarizer may return, in UTF-16 code units: the same as a message's content
    /// (<see cref="MaxContentLength"/>), so a summary fits one engine record as a message does.
    /// </summary>
    public const int MaxSummaryLength = MaxContentLength;

    /// <summary>
    /// Deepest nesting every reader of stored JSON accepts: the most System.Text.Json can write (1,000), so JSON
    /// stored before <see cref="MaxJsonDepth"/> was enforced still reads back. Writers never exceed it.
    /// </summary>
    public const int MaxJsonReadDepth = 1000;

    /// <summary>The options readers of stored JSON parse with (<see cref="MaxJsonReadDepth"/>).</summary>
    public static JsonDocumentOptions JsonReadOptions => new() { MaxDepth = MaxJsonReadDepth };

    /// <summary>
    /// Checks a session's custom metadata: depth, valid text, writable numbers and length (see the class remarks).
    /// </summary>
    /// <param name="metadata">The metadata object (null passes).</param>
    /// <param name="paramName">The argument to name in the exception.</param>
    /// <exception cref="ArgumentException">The metadata breaks a limit.</exception>
    public static void ValidateSessionMetadata(JsonObject? metadata, string paramName = "metadata")
    {
        if (metadata is null || JsonLimitChecker.IsEmpty(metadata))
        {
            return;
        }
        long length = 0;
        if (JsonLimitChecker.Check(metadata, "Session metadata", SessionTooLong, ref length) is { } problem)
        {
            throw new ArgumentException(problem, paramName);
        }
    }

    /// <summary>
    /// Checks a message's JSON members (metadata, function_call, tool_calls); the problem, or null when they pass.
    /// </summary>
    internal static string? FindMessageJsonProblem(Message message)
    {
        var metadata = message.Metadata;
        var fn = message.FunctionCall;
        var calls = message.ToolCalls;
        if (fn is null && calls is null && JsonLimitChecker.IsEmpty(metadata))
        {
            return null;
        }
        if (calls is not null && calls.Count > MaxToolCallsPerMessage)
        {
            return $"Message has {calls.Count} tool calls; the maximum is {MaxToolCallsPerMessage} (MemoryLimits.MaxToolCallsPerMessage).";
        }
        long length = 0;
        return JsonLimitChecker.Check(metadata, "Message metadata", MessageTooLong, ref length)
            ?? (fn is null ? null : JsonLimitChecker.Check(fn, "Message function_call", MessageTooLong, ref length))
            ?? (calls is null ? null : JsonLimitChecker.Check(calls, "Message tool_calls", MessageTooLong, ref length))
            ?? (fn is null ? null : ToolCallShape.CheckFunction(fn))
            ?? (calls is null ? null : ToolCallShape.CheckToolCalls(calls));
    }

    private static readonly string SessionTooLong =
        $"Session metadata is longer than {MaxJsonLength} characters of JSON (MemoryLimits.MaxJsonLength).";

    private static readonly string MessageTooLong =
        $"Message metadata, function_call and tool_calls together are longer than {MaxJsonLength} characters of JSON (MemoryLimits.MaxJsonLength).";

    /// <summary>Checks the size of one <see cref="IMemorySession.AddMessagesAsync"/> batch.</summary>
    /// <exception cref="ArgumentException">The batch holds more than <see cref="MaxMessagesPerBatch"/> messages.</exception>
    internal static void ValidateBatch(int count, string paramName)
    {
        if (count > MaxMessagesPerBatch)
        {
            throw new ArgumentException($"A batch holds {count} messages; the maximum is {MaxMessagesPerBatch} (MemoryLimits.MaxMessagesPerBatch). Add them in several batches.", paramName);
        }
    }

    /// <summary>Checks the text a summarizer returned: at most <see cref="MaxSummaryLength"/>, valid UTF-16.</summary>
    /// <exception cref="MemoryException">The text breaks a limit (the summarizer's fault; the text is not echoed).</exception>
    internal static void ValidateSummaryText(string text)
    {
        if (text.Length > MaxSummaryLength)
        {
            throw new MemoryException($"The summarizer returned {text.Length} characters; the maximum is {MaxSummaryLength} (MemoryLimits.MaxSummaryLength).");
        }
        if (!MessageValidator.IsValidUtf16(text))
        {
            throw new MemoryException("The summarizer returned text that is not valid UTF-16 (it holds an unpaired surrogate).");
        }
    }

    /// <summary>Checks a session's settings and its metadata (the limits above) before anything is written.</summary>
    internal static void ValidateSessionSettings(SessionMetadata m)
    {
        if (m.MaxMessages <= 0)
        {
            throw new ArgumentException($"MaxMessages must be positive (was {m.MaxMessages}).", nameof(m));
        }
        if (m.MaxTokens <= 0)
        {
            throw new ArgumentException($"MaxTokens must be positive (was {m.MaxTokens}).", nameof(m));
        }
        if (!(m.EvictionLowWater > 0 && m.EvictionLowWater <= 1))
        {
            throw new ArgumentException($"EvictionLowWater must be in (0, 1] (was {m.EvictionLowWater}).", nameof(m));
        }
        if (m.AutoSummarizeThreshold < 0)
        {
            throw new ArgumentException($"AutoSummarizeThreshold must be zero (off) or positive (was {m.AutoSummarizeThreshold}).", nameof(m));
        }
        if (!Enum.IsDefined(m.Status))
        {
            throw new ArgumentException($"Unknown session status {(int)m.Status}.", nameof(m));
        }
        if (!Enum.IsDefined(m.SummaryStrategy))
        {
            throw new ArgumentException($"Unknown summary strategy {(int)m.SummaryStrategy}.", nameof(m));
        }
        ValidateSessionMetadata(m.Metadata, nameof(m));
    }
}
