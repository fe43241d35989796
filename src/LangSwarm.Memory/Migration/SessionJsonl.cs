using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace LangSwarm.Memory;

/// <summary>
/// The JSON Lines interchange format of <c>lsmem export</c> and <c>lsmem import</c> (format 1; README "lsmem",
/// "Export format"): per session one <c>session</c> line, then one <c>message</c> line per live message in
/// sequence order, then one <c>summary</c> line per summary, oldest first. Members are written in a fixed order,
/// timestamps as UTC with seven fraction digits, lines end with <c>\n</c>, so the same data always gives the same
/// bytes, whichever backend it came from.
/// </summary>
public static class SessionJsonl
{
    /// <summary>The format version written in every session line.</summary>
    public const int FormatVersion = 1;

    /// <summary>How timestamps are written (round-trip, UTC).</summary>
    public const string TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
        MaxDepth = MemoryLimits.MaxJsonReadDepth,
    };

    /// <summary>Writes one session: its session line, its message lines, its summary lines.</summary>
    public static async Task WriteAsync(TextWriter writer, PortableSession record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(record);
        await writer.WriteAsync(SessionLine(record).AsMemory(), cancellationToken).ConfigureAwait(false);
        foreach (var m in record.Messages)
        {
            await writer.WriteAsync(MessageLine(m).AsMemory(), cancellationToken).ConfigureAwait(false);
        }
        foreach (var s in record.Summaries)
        {
            await writer.WriteAsync(SummaryLine(s).AsMemory(), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The whole session as text, every line ending with <c>\n</c>.</summary>
    public static string ToText(PortableSession record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var sb = new StringBuilder(SessionLine(record));
        foreach (var m in record.Messages)
        {
            sb.Append(MessageLine(m));
        }
        foreach (var s in record.Summaries)
        {
            sb.Append(SummaryLine(s));
        }
        return sb.ToString();
    }

    /// <summary>The session line (with its <c>\n</c>).</summary>
    public static string SessionLine(PortableSession record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var m = record.Metadata;
        return Line(w =>
        {
            w.WriteString("type", "session");
            w.WriteNumber("format", FormatVersion);
            w.WriteString("session_id", m.SessionId);
            if (m.UserId is null)
            {
                w.WriteNull("user_id");
            }
            else
            {
                w.WriteString("user_id", m.UserId);
            }
            w.WriteString("status", StatusName(m.Status));
            w.WriteString("created_at", Time(m.CreatedAt));
            w.WriteString("updated_at", Time(m.UpdatedAt));
            w.WriteNumber("max_messages", m.MaxMessages);
            w.WriteNumber("max_tokens", m.MaxTokens);
            w.WriteNumber("auto_summarize_threshold", m.AutoSummarizeThreshold);
            w.WriteNumber("eviction_low_water", m.EvictionLowWater);
            w.WriteString("summary_strategy", StrategyName(m.SummaryStrategy));
            w.WritePropertyName("metadata");
            m.Metadata.WriteTo(w);
            w.WriteNumber("last_sequence", record.LastSequence);
            w.WriteNumber("summarized_through", record.SummarizedThrough);
            w.WriteNumber("messages", record.Messages.Count);
            w.WriteNumber("summaries", record.Summaries.Count);
        });
    }

    /// <summary>A message line (with its <c>\n</c>).</summary>
    public static string MessageLine(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return Line(w =>
        {
            w.WriteString("type", "message");
            w.WriteNumber("sequence", message.Sequence);
            w.WriteString("message_id", message.MessageId);
            w.WriteString("role", message.Role.ToWireName());
            w.WriteString("timestamp", Time(message.Timestamp));
            if (message.TokenCount is { } tokens)
            {
                w.WriteNumber("token_count", tokens);
            }
            w.WriteString("content", message.Content);
            w.WritePropertyName("metadata");
            message.Metadata.WriteTo(w);
            if (message.ToolCalls is { } calls)
            {
                w.WritePropertyName("tool_calls");
                calls.WriteTo(w);
            }
            if (message.FunctionCall is { } call)
            {
                w.WritePropertyName("function_call");
                call.WriteTo(w);
            }
        });
    }

    /// <summary>A summary line (with its <c>\n</c>).</summary>
    public static string SummaryLine(ConversationSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        return Line(w =>
        {
            w.WriteString("type", "summary");
            w.WriteString("summary_id", summary.SummaryId);
            w.WriteString("summary_type", TypeName(summary.SummaryType));
            w.WriteString("created_at", Time(summary.CreatedAt));
            w.WriteNumber("first_sequence", summary.FirstSequence);
            w.WriteNumber("last_sequence", summary.LastSequence);
            w.WriteNumber("message_count", summary.MessageCount);
            w.WriteNumber("token_count", summary.TokenCount);
            w.WriteString("text", summary.SummaryText);
        });
    }

    /// <summary>A timestamp as the format writes it.</summary>
    public static string Time(DateTimeOffset value) => value.UtcDateTime.ToString(TimestampFormat, CultureInfo.InvariantCulture);

    /// <summary>The format's name of a status (<c>active</c>, <c>archived</c>, <c>expired</c>).</summary>
    public static string StatusName(SessionStatus status) => status.ToString().ToLowerInvariant();

    /// <summary>The format's name of a summary strategy (<c>periodic</c>, <c>rolling</c>, <c>manual</c>).</summary>
    public static string StrategyName(SummaryStrategy strategy) => strategy.ToString().ToLowerInvariant();

    /// <summary>The format's name of a summary type (<c>auto</c>, <c>manual</c>, <c>periodic</c>).</summary>
    public static string TypeName(SummaryType type) => type.ToString().ToLowerInvariant();

    private static string Line(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan) + "\n";
    }
}
