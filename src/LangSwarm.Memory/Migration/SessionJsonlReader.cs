using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LangSwarm.Memory;

/// <summary>One session read from a <see cref="SessionJsonl"/> stream: its record, or why it could not be read.</summary>
/// <param name="SessionId">The id its session line names (null when not even that could be read).</param>
/// <param name="Line">The line number (1-based) of its session line, or of the first bad line outside any session.</param>
/// <param name="Record">The session, complete and parsed; null when <paramref name="Error"/> is set.</param>
/// <param name="Error">What was wrong (with its line number); null when the session was read.</param>
public sealed record SessionJsonlEntry(string? SessionId, long Line, PortableSession? Record, string? Error);

/// <summary>
/// Reads the <see cref="SessionJsonl"/> format a session at a time. A session is handed out only once all its
/// lines were read and parsed and their counts match its session line, so a file cut short or a bad line never
/// yields part of a session: the whole session is reported as an error and reading goes on at the next session line.
/// </summary>
public static class SessionJsonlReader
{
    /// <summary>Reads every session of the stream, in order.</summary>
    public static async IAsyncEnumerable<SessionJsonlEntry> ReadAsync(TextReader reader, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        Pending? current = null;
        long lineNo = 0;
        var orphanReported = false;
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            lineNo++;
            if (line.Length == 0)
            {
                continue;
            }
            JsonObject? obj = null;
            var type = string.Empty;
            string? bad = null;
            try
            {
                obj = JsonNode.Parse(line, documentOptions: MemoryLimits.JsonReadOptions) as JsonObject ?? throw new FormatException("not a JSON object");
                type = Str(obj, "type");
            }
            catch (Exception ex) when (ex is JsonException or FormatException)
            {
                bad = ex.Message;
            }
            if (bad is not null || obj is null)
            {
                if (current is not null)
                {
                    current.Fail(lineNo, bad ?? "not a JSON object");
                }
                else if (!orphanReported)
                {
                    orphanReported = true;
                    yield return new SessionJsonlEntry(null, lineNo, null, $"line {lineNo}: {bad}");
                }
                continue;
            }
            if (type == "session")
            {
                if (current is not null)
                {
                    yield return current.Finish();
                }
                current = new Pending(lineNo);
                orphanReported = false;
                current.Run(lineNo, () => current.Header(obj));
            }
            else if (current is null)
            {
                if (!orphanReported)
                {
                    orphanReported = true;
                    yield return new SessionJsonlEntry(null, lineNo, null, $"line {lineNo}: a '{type}' line before any session line");
                }
            }
            else if (type == "message")
            {
                current.Run(lineNo, () => current.Messages.Add(ParseMessage(obj)));
            }
            else if (type == "summary")
            {
                current.Run(lineNo, () => current.Summaries.Add(ParseSummary(obj)));
            }
            else
            {
                current.Fail(lineNo, $"unknown line type '{type}'");
            }
        }
        if (current is not null)
        {
            yield return current.Finish();
        }
    }

    private static Message ParseMessage(JsonObject o)
    {
        var m = new Message
        {
            Sequence = Long(o, "sequence"),
            MessageId = Str(o, "message_id"),
            Role = MessageRoles.Parse(Str(o, "role")),
            Timestamp = Time(o, "timestamp"),
            Content = Str(o, "content"),
            Metadata = Obj(o, "metadata") ?? new JsonObject(),
        };
        if (o["token_count"] is not null)
        {
            m.TokenCount = checked((int)Long(o, "token_count"));
        }
        if (o["tool_calls"] is { } calls)
        {
            m.ToolCalls = calls as JsonArray ?? throw new FormatException("'tool_calls' must be an array");
            o.Remove("tool_calls");
        }
        if (o["function_call"] is not null)
        {
            m.FunctionCall = Obj(o, "function_call");
        }
        return m;
    }

    private static ConversationSummary ParseSummary(JsonObject o) => new()
    {
        SummaryId = Str(o, "summary_id"),
        SummaryType = Enum<SummaryType>(o, "summary_type"),
        CreatedAt = Time(o, "created_at"),
        FirstSequence = Long(o, "first_sequence"),
        LastSequence = Long(o, "last_sequence"),
        MessageCount = checked((int)Long(o, "message_count")),
        TokenCount = checked((int)Long(o, "token_count")),
        SummaryText = Str(o, "text"),
    };

    internal static string Str(JsonObject o, string key) =>
        o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new FormatException($"'{key}' must be a string");

    internal static long Long(JsonObject o, string key) =>
        o[key] is JsonValue v && v.TryGetValue<long>(out var n) ? n : throw new FormatException($"'{key}' must be an integer");

    internal static DateTimeOffset Time(JsonObject o, string key)
    {
        var text = Str(o, key);
        if (!DateTimeOffset.TryParseExact(text, SessionJsonl.TimestampFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)
            && !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out t))
        {
            throw new FormatException($"'{key}' must be an ISO 8601 time with a zone (was a string of {text.Length} characters)");
        }
        return t;
    }

    /// <summary>The object member, detached from its parent (null when absent or null).</summary>
    internal static JsonObject? Obj(JsonObject o, string key)
    {
        var node = o[key];
        if (node is null)
        {
            return null;
        }
        if (node is not JsonObject child)
        {
            throw new FormatException($"'{key}' must be an object");
        }
        o.Remove(key);
        return child;
    }

    internal static T Enum<T>(JsonObject o, string key)
        where T : struct, System.Enum =>
        System.Enum.TryParse<T>(Str(o, key), ignoreCase: true, out var value) && System.Enum.IsDefined(value)
            ? value
            : throw new FormatException($"'{key}' must be one of {string.Join(", ", System.Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}");

    /// <summary>A session being read: its lines so far, or the first problem found in them.</summary>
    private sealed class Pending(long line)
    {
        private JsonObject? _header;
        private SessionMetadata? _metadata;
        private string? _error;

        public List<Message> Messages { get; } = [];

        public List<ConversationSummary> Summaries { get; } = [];

        public void Header(JsonObject o)
        {
            _header = o;
            var format = Long(o, "format");
            if (format != SessionJsonl.FormatVersion)
            {
                throw new FormatException($"format {format} is not supported (this build reads format {SessionJsonl.FormatVersion})");
            }
            _metadata = new SessionMetadata(Str(o, "session_id"), o["user_id"] is null ? null : Str(o, "user_id"))
            {
                Status = Enum<SessionStatus>(o, "status"),
                CreatedAt = Time(o, "created_at"),
                UpdatedAt = Time(o, "updated_at"),
                MaxMessages = checked((int)Long(o, "max_messages")),
                MaxTokens = checked((int)Long(o, "max_tokens")),
                AutoSummarizeThreshold = checked((int)Long(o, "auto_summarize_threshold")),
                EvictionLowWater = o["eviction_low_water"] is JsonValue v && v.TryGetValue<double>(out var d) ? d : throw new FormatException("'eviction_low_water' must be a number"),
                SummaryStrategy = Enum<SummaryStrategy>(o, "summary_strategy"),
                Metadata = Obj(o, "metadata") ?? new JsonObject(),
            };
        }

        public void Run(long lineNo, Action parse)
        {
            if (_error is not null)
            {
                return;
            }
            try
            {
                parse();
            }
            catch (Exception ex) when (ex is FormatException or JsonException or InvalidOperationException or OverflowException or InvalidMessageException)
            {
                Fail(lineNo, ex.Message);
            }
        }

        public void Fail(long lineNo, string reason) => _error ??= $"line {lineNo}: {reason}";

        public SessionJsonlEntry Finish()
        {
            var id = _header?["session_id"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
            if (_error is null && _header is not null && _metadata is not null)
            {
                try
                {
                    var expectedMessages = Long(_header, "messages");
                    var expectedSummaries = Long(_header, "summaries");
                    if (expectedMessages != Messages.Count || expectedSummaries != Summaries.Count)
                    {
                        _error = $"line {line}: the session line announces {expectedMessages} messages and {expectedSummaries} summaries, the file holds {Messages.Count} and {Summaries.Count} (cut short?)";
                    }
                    else
                    {
                        return new SessionJsonlEntry(id, line, new PortableSession(_metadata, Long(_header, "last_sequence"), Long(_header, "summarized_through"), Messages, Summaries), null);
                    }
                }
                catch (FormatException ex)
                {
                    _error = $"line {line}: {ex.Message}";
                }
            }
            return new SessionJsonlEntry(id, line, null, _error ?? $"line {line}: not a valid session line");
        }
    }
}
