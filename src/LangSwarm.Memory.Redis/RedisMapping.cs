using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using StackExchange.Redis;

namespace LangSwarm.Memory.Redis;

/// <summary>
/// Converts between the model and what is stored: a hash per session (timestamps as UTC ticks), messages and
/// summaries as compact JSON with every field (a message's sequence is where it is stored, not in its JSON), and
/// one-line index facts per message.
/// </summary>
internal static class RedisMapping
{
    // Session hash fields.
    internal const string FSessionId = "session_id";
    internal const string FUserId = "user_id";
    internal const string FOwner = "owner";
    internal const string FStatus = "status";
    internal const string FCreatedAt = "created_at";
    internal const string FUpdatedAt = "updated_at";
    internal const string FMaxMessages = "max_messages";
    internal const string FMaxTokens = "max_tokens";
    internal const string FThreshold = "auto_summarize_threshold";
    internal const string FStrategy = "summary_strategy";
    internal const string FLowWater = "eviction_low_water";
    internal const string FMetadata = "metadata";
    internal const string FLastSequence = "last_sequence";
    internal const string FLiveMessages = "live_messages";
    internal const string FLiveTokens = "live_tokens";
    internal const string FSummarizedThrough = "summarized_through";
    internal const string FGeneration = "gen";
    internal const string FVersion = "ver";

    // Buffers above this are dropped after use rather than kept per thread.
    private const int MaxKeptBuffer = 64 * 1024;

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        SkipValidation = false,
        MaxDepth = MemoryLimits.MaxJsonReadDepth,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    /// <summary>The index score of an activity time: whole milliseconds since year 1 (exact in a double).</summary>
    public static long Score(DateTimeOffset time) => time.UtcTicks / TimeSpan.TicksPerMillisecond;

    /// <summary>The metadata's hash fields, as alternating names and values (no counters, no owner marker).</summary>
    public static List<RedisValue> MetadataFields(SessionMetadata m) =>
    [
        FSessionId, m.SessionId,
        FStatus, (int)m.Status,
        FCreatedAt, m.CreatedAt.UtcTicks,
        FUpdatedAt, m.UpdatedAt.UtcTicks,
        FMaxMessages, m.MaxMessages,
        FMaxTokens, m.MaxTokens,
        FThreshold, m.AutoSummarizeThreshold,
        FStrategy, (int)m.SummaryStrategy,
        FLowWater, m.EvictionLowWater.ToString("R", CultureInfo.InvariantCulture),
        FMetadata, m.Metadata.ToJsonString(),
        // An empty user_id field means "no user"; valid user ids are never empty.
        FUserId, m.UserId ?? string.Empty,
    ];

    /// <summary>The state stored in a session hash, or null when the hash is empty (no such session).</summary>
    public static SessionState? StateFromHash(HashEntry[] entries) => StateFromHash(entries, out _, out _);

    /// <summary>The state stored in a session hash and its generation token, or null when there is none.</summary>
    public static SessionState? StateFromHash(HashEntry[] entries, out string generation) => StateFromHash(entries, out generation, out _);

    /// <summary>
    /// The state stored in a session hash, its generation token (empty when the hash predates tokens) and its
    /// metadata version (0 when the hash predates versions), or null when the hash is empty (no such session).
    /// </summary>
    public static SessionState? StateFromHash(HashEntry[] entries, out string generation, out long version)
    {
        generation = string.Empty;
        version = 0;
        if (entries.Length == 0)
        {
            return null;
        }
        var d = new Dictionary<string, RedisValue>(entries.Length, StringComparer.Ordinal);
        foreach (var e in entries)
        {
            d[(string)e.Name!] = e.Value;
        }
        if (!d.ContainsKey(FSessionId))
        {
            return null;
        }
        if (d.TryGetValue(FGeneration, out var g) && !g.IsNullOrEmpty)
        {
            generation = (string)g!;
        }
        version = Long(d, FVersion);
        string? user = d.TryGetValue(FUserId, out var u) && !u.IsNullOrEmpty ? (string?)u : null;
        var metadata = new SessionMetadata((string)d[FSessionId]!, user)
        {
            CreatedAt = Time(d, FCreatedAt),
            UpdatedAt = Time(d, FUpdatedAt),
            Status = (SessionStatus)Int(d, FStatus),
            MaxMessages = Int(d, FMaxMessages),
            MaxTokens = Int(d, FMaxTokens),
            AutoSummarizeThreshold = Int(d, FThreshold),
            SummaryStrategy = (SummaryStrategy)Int(d, FStrategy),
            // Hashes written before the field existed hold none: the default.
            EvictionLowWater = d.TryGetValue(FLowWater, out var lw) && !lw.IsNullOrEmpty
                ? double.Parse((string)lw!, NumberStyles.Float, CultureInfo.InvariantCulture)
                : SessionMetadata.DefaultEvictionLowWater,
            Metadata = d.TryGetValue(FMetadata, out var j) && !j.IsNullOrEmpty ? (JsonNode.Parse((string)j!, null, MemoryLimits.JsonReadOptions) as JsonObject ?? []) : [],
        };
        return new SessionState(metadata)
        {
            LastSequence = Long(d, FLastSequence),
            LiveMessages = Int(d, FLiveMessages),
            LiveTokens = Long(d, FLiveTokens),
            SummarizedThrough = Long(d, FSummarizedThrough),
        };
    }

    /// <summary>
    /// A message as stored: JSON with every field but the sequence (the field name it is stored under), JSON members
    /// embedded verbatim, text escaped only where JSON requires it (so non-ASCII text is stored as UTF-8).
    /// </summary>
    /// <remarks>
    /// The hot path of every add: the writer and its buffer are kept per thread and reused, so an add allocates the
    /// one exact-size array it sends.
    /// </remarks>
    public static byte[] MessageToJson(Message m)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(4096);
        var w = t_writer ??= new Utf8JsonWriter(buffer, WriterOptions);
        buffer.ResetWrittenCount();
        w.Reset(buffer);
        try
        {
            w.WriteStartObject();
            w.WriteString("id", m.MessageId);
            w.WriteNumber("role", (int)m.Role);
            w.WriteString("content", m.Content);
            w.WriteNumber("ts", m.Timestamp.UtcTicks);
            if (m.TokenCount is { } t)
            {
                w.WriteNumber("tok", t);
            }
            w.WritePropertyName("meta");
            m.Metadata.WriteTo(w);
            if (m.FunctionCall is not null)
            {
                w.WritePropertyName("fc");
                m.FunctionCall.WriteTo(w);
            }
            if (m.ToolCalls is not null)
            {
                w.WritePropertyName("tc");
                m.ToolCalls.WriteTo(w);
            }
            w.WriteEndObject();
            w.Flush();
            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            if (buffer.Capacity > MaxKeptBuffer)
            {
                // A very large message: do not keep its buffer alive on this thread.
                t_buffer = null;
                t_writer = null;
            }
        }
    }

    /// <summary>
    /// Reads a stored message; its sequence is <paramref name="sequence"/> (the field or score it is stored under).
    /// JSON written by earlier versions also holds the sequence (<c>"seq"</c>), which is the same and is ignored.
    /// </summary>
    public static Message MessageFromJson(RedisValue value, long sequence)
    {
        var root = JsonNode.Parse((byte[])value!, null, MemoryLimits.JsonReadOptions)!.AsObject();
        var message = new Message
        {
            Sequence = sequence,
            MessageId = root["id"]!.GetValue<string>(),
            Role = (MessageRole)root["role"]!.GetValue<int>(),
            Content = root["content"]!.GetValue<string>(),
            Timestamp = new DateTimeOffset(root["ts"]!.GetValue<long>(), TimeSpan.Zero),
            TokenCount = root["tok"]?.GetValue<int>(),
        };
        message.Metadata = Detach<JsonObject>(root, "meta") ?? [];
        message.FunctionCall = Detach<JsonObject>(root, "fc");
        message.ToolCalls = Detach<JsonArray>(root, "tc");
        return message;
    }

    /// <summary>The compact index facts of a message: <c>seq|role|tokens|ticks|calls</c>.</summary>
    public static string InfoMember(Message m) => string.Create(
        CultureInfo.InvariantCulture,
        $"{m.Sequence}|{(int)m.Role}|{m.TokenCount ?? 0}|{m.Timestamp.UtcTicks}|{(m.HasCalls ? 1 : 0)}");

    /// <summary>The index facts of a message without the sequence (<c>role|tokens|ticks|calls</c>); the append script puts <c>seq|</c> in front.</summary>
    public static string InfoTail(Message m) => string.Create(
        CultureInfo.InvariantCulture,
        $"{(int)m.Role}|{m.TokenCount ?? 0}|{m.Timestamp.UtcTicks}|{(m.HasCalls ? 1 : 0)}");

    /// <summary>Reads an index fact written by <see cref="InfoMember"/>.</summary>
    public static MessageInfo ParseInfo(string member)
    {
        var p = member.Split('|');
        return new MessageInfo(
            long.Parse(p[0], CultureInfo.InvariantCulture),
            (MessageRole)int.Parse(p[1], CultureInfo.InvariantCulture),
            int.Parse(p[2], CultureInfo.InvariantCulture),
            new DateTimeOffset(long.Parse(p[3], CultureInfo.InvariantCulture), TimeSpan.Zero),
            p[4] == "1");
    }

    /// <summary>A summary as JSON.</summary>
    public static string SummaryToJson(ConversationSummary s) => new JsonObject
    {
        ["id"] = s.SummaryId,
        ["session_id"] = s.SessionId,
        ["text"] = s.SummaryText,
        ["messages"] = s.MessageCount,
        ["tokens"] = s.TokenCount,
        ["created"] = s.CreatedAt.UtcTicks,
        ["type"] = (int)s.SummaryType,
        ["first"] = s.FirstSequence,
        ["last"] = s.LastSequence,
    }.ToJsonString();

    /// <summary>Reads a summary written by <see cref="SummaryToJson"/>.</summary>
    public static ConversationSummary SummaryFromJson(RedisValue value)
    {
        var o = JsonNode.Parse((string)value!)!.AsObject();
        return new ConversationSummary
        {
            SummaryId = o["id"]!.GetValue<string>(),
            SessionId = o["session_id"]!.GetValue<string>(),
            SummaryText = o["text"]!.GetValue<string>(),
            MessageCount = o["messages"]!.GetValue<int>(),
            TokenCount = o["tokens"]!.GetValue<int>(),
            CreatedAt = new DateTimeOffset(o["created"]!.GetValue<long>(), TimeSpan.Zero),
            SummaryType = (SummaryType)o["type"]!.GetValue<int>(),
            FirstSequence = o["first"]!.GetValue<long>(),
            LastSequence = o["last"]!.GetValue<long>(),
        };
    }

    private static T? Detach<T>(JsonObject root, string name)
        where T : JsonNode
    {
        if (!root.TryGetPropertyValue(name, out var node) || node is null)
        {
            return null;
        }
        root.Remove(name);
        return (T)node;
    }

    private static DateTimeOffset Time(Dictionary<string, RedisValue> d, string f) => new(Long(d, f), TimeSpan.Zero);

    private static long Long(Dictionary<string, RedisValue> d, string f) => d.TryGetValue(f, out var v) ? (long)v : 0;

    private static int Int(Dictionary<string, RedisValue> d, string f) => d.TryGetValue(f, out var v) ? (int)v : 0;
}
