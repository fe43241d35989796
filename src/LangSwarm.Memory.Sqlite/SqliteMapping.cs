using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;

namespace LangSwarm.Memory.Sqlite;

/// <summary>Converts between rows and the model: binds parameters and reads columns in <see cref="SqliteStatements"/> order.</summary>
internal static class SqliteMapping
{
    /// <summary>The role mask that lets every role through.</summary>
    public const long AllRoles = (1L << 8) - 1;

    /// <summary>UTC ticks of a time (exact, offset-free).</summary>
    public static long ToTicks(DateTimeOffset value) => value.UtcTicks;

    /// <summary>A UTC time from stored ticks.</summary>
    public static DateTimeOffset FromTicks(long ticks) => new(ticks, TimeSpan.Zero);

    /// <summary>The bit mask of a role filter (null: all roles).</summary>
    public static long RoleMask(IReadOnlyCollection<MessageRole>? roles)
    {
        if (roles is null)
        {
            return AllRoles;
        }
        long mask = 0;
        foreach (var r in roles)
        {
            mask |= 1L << (byte)r;
        }
        return mask;
    }

    /// <summary>Reads the metadata of a session row selected with <see cref="SqliteStatements.SessionColumns"/>.</summary>
    public static SessionMetadata ReadMetadata(SqliteDataReader r) => new()
    {
        SessionId = r.GetString(0),
        UserId = r.IsDBNull(1) ? null : r.GetString(1),
        CreatedAt = FromTicks(r.GetInt64(2)),
        UpdatedAt = FromTicks(r.GetInt64(3)),
        Status = (SessionStatus)r.GetInt32(4),
        MaxMessages = r.GetInt32(5),
        MaxTokens = r.GetInt32(6),
        AutoSummarizeThreshold = r.GetInt32(7),
        SummaryStrategy = (SummaryStrategy)r.GetInt32(8),
        Metadata = ParseObject(r.GetString(9), "session metadata"),
        EvictionLowWater = r.GetDouble(14),
    };

    /// <summary>
    /// A copy of <paramref name="m"/> at another activity time, sharing its JSON metadata: metadata handed out in
    /// snapshots is replaced, never changed in place, and nobody changes the JSON of a snapshot (they clone first).
    /// </summary>
    public static SessionMetadata WithUpdatedAt(SessionMetadata m, long updatedAtTicks) => new()
    {
        SessionId = m.SessionId,
        UserId = m.UserId,
        CreatedAt = m.CreatedAt,
        UpdatedAt = FromTicks(updatedAtTicks),
        Status = m.Status,
        MaxMessages = m.MaxMessages,
        MaxTokens = m.MaxTokens,
        AutoSummarizeThreshold = m.AutoSummarizeThreshold,
        SummaryStrategy = m.SummaryStrategy,
        EvictionLowWater = m.EvictionLowWater,
        Metadata = m.Metadata,
    };

    /// <summary>Adds the metadata parameters of a session row (no counters).</summary>
    public static void BindMetadata(SqliteCommand command, string sessionId, SessionMetadata m)
    {
        var p = command.Parameters;
        p.AddWithValue("$session_id", sessionId);
        p.AddWithValue("$user_id", (object?)m.UserId ?? DBNull.Value);
        p.AddWithValue("$created_at", ToTicks(m.CreatedAt));
        p.AddWithValue("$updated_at", ToTicks(m.UpdatedAt));
        p.AddWithValue("$status", (int)m.Status);
        p.AddWithValue("$max_messages", m.MaxMessages);
        p.AddWithValue("$max_tokens", m.MaxTokens);
        p.AddWithValue("$auto_summarize_threshold", m.AutoSummarizeThreshold);
        p.AddWithValue("$summary_strategy", (int)m.SummaryStrategy);
        p.AddWithValue("$metadata", m.Metadata.ToJsonString());
        p.AddWithValue("$eviction_low_water", m.EvictionLowWater);
    }

    /// <summary>Adds the (empty) parameters of <see cref="SqliteStatements.InsertMessage"/>, to be filled per row.</summary>
    public static MessageParameters PrepareMessage(SqliteCommand command, string sessionId)
    {
        command.Parameters.AddWithValue("$session_id", sessionId);
        return new MessageParameters(
            command.Parameters.Add("$sequence", SqliteType.Integer),
            command.Parameters.Add("$message_id", SqliteType.Text),
            command.Parameters.Add("$role", SqliteType.Integer),
            command.Parameters.Add("$content", SqliteType.Text),
            command.Parameters.Add("$timestamp", SqliteType.Integer),
            command.Parameters.Add("$token_count", SqliteType.Integer),
            command.Parameters.Add("$metadata", SqliteType.Text),
            command.Parameters.Add("$function_call", SqliteType.Text),
            command.Parameters.Add("$tool_calls", SqliteType.Text),
            command.Parameters.Add("$has_calls", SqliteType.Integer));
    }

    /// <summary>Reads a message row selected with <see cref="SqliteStatements.MessageColumns"/>.</summary>
    public static Message ReadMessage(SqliteDataReader r) => new()
    {
        Sequence = r.GetInt64(0),
        MessageId = r.GetString(1),
        Role = (MessageRole)r.GetInt32(2),
        Content = r.GetString(3),
        Timestamp = FromTicks(r.GetInt64(4)),
        TokenCount = r.IsDBNull(5) ? null : r.GetInt32(5),
        Metadata = ParseObject(r.GetString(6), "message metadata"),
        FunctionCall = r.IsDBNull(7) ? null : ParseObject(r.GetString(7), "function call"),
        ToolCalls = r.IsDBNull(8) ? null : ParseArray(r.GetString(8), "tool calls"),
    };

    /// <summary>Reads a row of <see cref="SqliteStatements.SessionMessageInfos"/>.</summary>
    public static MessageInfo ReadMessageInfo(SqliteDataReader r) => new(
        r.GetInt64(0),
        (MessageRole)r.GetInt32(1),
        r.IsDBNull(2) ? 0 : r.GetInt32(2),
        FromTicks(r.GetInt64(3)),
        r.GetInt64(4) != 0);

    /// <summary>Adds the parameters of a summary row.</summary>
    public static void BindSummary(SqliteCommand command, string sessionId, ConversationSummary s)
    {
        var p = command.Parameters;
        p.AddWithValue("$summary_id", s.SummaryId);
        p.AddWithValue("$session_id", sessionId);
        SetText(p.Add("$summary_text", SqliteType.Text), s.SummaryText);
        p.AddWithValue("$message_count", s.MessageCount);
        p.AddWithValue("$token_count", s.TokenCount);
        p.AddWithValue("$created_at", ToTicks(s.CreatedAt));
        p.AddWithValue("$summary_type", (int)s.SummaryType);
        p.AddWithValue("$first_sequence", s.FirstSequence);
        p.AddWithValue("$last_sequence", s.LastSequence);
    }

    /// <summary>
    /// The value to bind for free text: the string itself, or its UTF-8 bytes when it holds U+0000. Microsoft.Data.Sqlite
    /// binds a string of more than 512 UTF-8 bytes as NUL-terminated text, so SQLite kept it only up to its first
    /// U+0000; bound as bytes (and cast to text by the statement) it is stored whole.
    /// </summary>
    public static object TextValue(string text) => text.Contains('\0', StringComparison.Ordinal) ? Encoding.UTF8.GetBytes(text) : text;

    /// <summary>Sets a text parameter to <see cref="TextValue"/> of <paramref name="text"/>, with the matching type.</summary>
    public static void SetText(SqliteParameter parameter, string text)
    {
        var value = TextValue(text);
        parameter.SqliteType = value is string ? SqliteType.Text : SqliteType.Blob;
        parameter.Value = value;
    }

    /// <summary>Reads a summary row selected with <see cref="SqliteStatements.SummaryColumns"/>.</summary>
    public static ConversationSummary ReadSummary(SqliteDataReader r) => new()
    {
        SummaryId = r.GetString(0),
        SessionId = r.GetString(1),
        SummaryText = r.GetString(2),
        MessageCount = r.GetInt32(3),
        TokenCount = r.GetInt32(4),
        CreatedAt = FromTicks(r.GetInt64(5)),
        SummaryType = (SummaryType)r.GetInt32(6),
        FirstSequence = r.GetInt64(7),
        LastSequence = r.GetInt64(8),
    };

    private static JsonObject ParseObject(string json, string what) =>
        Parse(json, what) as JsonObject ?? throw new StorageCorruptionException($"Stored {what} is not a JSON object.");

    private static JsonArray ParseArray(string json, string what) =>
        Parse(json, what) as JsonArray ?? throw new StorageCorruptionException($"Stored {what} is not a JSON array.");

    private static JsonNode? Parse(string json, string what)
    {
        try
        {
            return JsonNode.Parse(json, null, MemoryLimits.JsonReadOptions);
        }
        catch (JsonException ex)
        {
            throw new StorageCorruptionException($"Stored {what} is not valid JSON: {ex.Message}", ex);
        }
    }
}

/// <summary>The reusable parameters of a message insert; <see cref="Set"/> fills them for one message.</summary>
internal readonly record struct MessageParameters(
    SqliteParameter Sequence,
    SqliteParameter MessageId,
    SqliteParameter Role,
    SqliteParameter Content,
    SqliteParameter Timestamp,
    SqliteParameter TokenCount,
    SqliteParameter Metadata,
    SqliteParameter FunctionCall,
    SqliteParameter ToolCalls,
    SqliteParameter HasCalls)
{
    /// <summary>Fills the parameters with one message's fields.</summary>
    public void Set(Message m)
    {
        Sequence.Value = m.Sequence;
        MessageId.Value = m.MessageId;
        Role.Value = (int)m.Role;
        SqliteMapping.SetText(Content, m.Content);
        Timestamp.Value = SqliteMapping.ToTicks(m.Timestamp);
        TokenCount.Value = m.TokenCount is { } t ? t : DBNull.Value;
        Metadata.Value = m.Metadata.ToJsonString();
        FunctionCall.Value = (object?)m.FunctionCall?.ToJsonString() ?? DBNull.Value;
        ToolCalls.Value = (object?)m.ToolCalls?.ToJsonString() ?? DBNull.Value;
        HasCalls.Value = m.HasCalls ? 1 : 0;
    }
}
