using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LangSwarm.Memory.Sqlite;

/// <summary>One row of V1's <c>sessions</c> table, each column as SQLite returned it.</summary>
internal sealed record V1Row(object? SessionId, object? UserId, object? Provider, object? Model, object? Status, object? SessionControl, object? CreatedAt, object? UpdatedAt, object? LastActivity, object? Metadata, object? History);

/// <summary>
/// Maps a V1 session row onto a V2 session record, by these rules (README "lsmem", V1 migration):
/// session id, user, created and updated times as they are (updated: the later of <c>updated_at</c> and
/// <c>last_activity</c>); status active and inactive → active, archived → archived, expired → expired; V1
/// <c>metadata</c> members → session metadata; provider, model, session_control, the V1 status, total_tokens and
/// truncated_at → session metadata under one key (<see cref="V1MigrationOptions.MetadataKey"/>); each message's
/// id, role (<c>function</c> stays function), content, timestamp and metadata as they are, <c>tool_calls</c> as
/// OpenAI calls, <c>tool_call_id</c> and <c>provider_message_id</c> into the message metadata; the V1 summary →
/// one V2 summary covering the messages V1 truncated (when <c>truncated_at</c> counts them, the kept messages
/// are numbered after them) or else the messages present.
/// </summary>
internal sealed class V1SessionMapper(V1MigrationOptions options)
{
    public V1Session Map(V1Row row)
    {
        var id = Text(row.SessionId);
        if (string.IsNullOrEmpty(id))
        {
            return new V1Session(null, null, "a row without a session_id", []);
        }
        var notes = new List<string>();
        void Note(string what) => notes.Add($"session '{id}': {what}");
        JsonObject? history;
        try
        {
            history = Text(row.History) is { Length: > 0 } h ? JsonNode.Parse(h, documentOptions: MemoryLimits.JsonReadOptions) as JsonObject ?? throw new JsonException("history is not a JSON object") : null;
        }
        catch (JsonException ex)
        {
            return new V1Session(id, null, $"session '{id}': history is not valid JSON ({ex.Message}); session skipped", notes);
        }
        var zone = options.SourceTimeZone;
        var created = V1Timestamps.Parse(row.CreatedAt, zone);
        if (created is null)
        {
            Note($"created_at '{row.CreatedAt}' is not a time; the first message's time (or 1970-01-01) is used");
        }
        var v1 = new JsonObject();
        AddIfPresent(v1, "provider", row.Provider);
        AddIfPresent(v1, "model", row.Model);
        AddIfPresent(v1, "session_control", row.SessionControl);
        AddIfPresent(v1, "status", row.Status);
        var meta = new SessionMetadata(id, Text(row.UserId)) { Status = MapStatus(Text(row.Status), Note), SummaryStrategy = SummaryStrategy.Manual };
        if (Text(row.Metadata) is { Length: > 0 } metaText)
        {
            try
            {
                foreach (var (k, v) in JsonNode.Parse(metaText, documentOptions: MemoryLimits.JsonReadOptions) as JsonObject ?? throw new JsonException("not a JSON object"))
                {
                    meta.Metadata[k] = v?.DeepClone();
                }
            }
            catch (JsonException)
            {
                v1["metadata_text"] = metaText;
                Note("metadata is not a JSON object; kept as text in metadata." + options.MetadataKey + ".metadata_text");
            }
        }
        long truncated = 0;
        if (history is not null)
        {
            CopyIfPresent(history, v1, "total_tokens");
            CopyIfPresent(history, v1, "truncated_at");
            if (history["truncated_at"] is JsonValue t && t.TryGetValue<long>(out var n) && n > 0)
            {
                truncated = n;
            }
            else if (history["truncated_at"] is not null)
            {
                Note($"truncated_at {history["truncated_at"]!.ToJsonString()} is not a message count; kept in metadata only");
            }
        }
        var messages = MapMessages(history?["messages"] as JsonArray, truncated, created, Note);
        created ??= messages.Count > 0 ? messages[0].Timestamp : DateTimeOffset.UnixEpoch;
        var updated = new[] { V1Timestamps.Parse(row.UpdatedAt, zone), V1Timestamps.Parse(row.LastActivity, zone), messages.Count > 0 ? messages[^1].Timestamp : null, created }.Max()!.Value;
        meta.CreatedAt = created.Value;
        meta.UpdatedAt = updated;
        if (v1.Count > 0)
        {
            meta.Metadata[options.MetadataKey] = v1;
        }
        var lastSequence = Math.Max(truncated, messages.Count > 0 ? messages[^1].Sequence : 0);
        var summaries = new List<ConversationSummary>();
        long summarizedThrough = 0;
        if (history?["summary"] is JsonValue sv && sv.TryGetValue<string>(out var summaryText) && summaryText.Length > 0)
        {
            var first = messages.FirstOrDefault(m => m.Role != MessageRole.System)?.Sequence ?? 1;
            summarizedThrough = truncated > 0 ? truncated : lastSequence;
            if (truncated == 0)
            {
                Note("the V1 summary does not say what it covers (no truncated_at); it is taken to cover the messages present");
            }
            summaries.Add(new ConversationSummary
            {
                SummaryId = $"v1-summary-{id}".Length <= 256 ? $"v1-summary-{id}" : "v1-summary",
                SessionId = id,
                SummaryText = summaryText,
                SummaryType = SummaryType.Auto,
                CreatedAt = updated,
                FirstSequence = truncated > 0 ? 1 : Math.Min(first, summarizedThrough),
                LastSequence = summarizedThrough,
                MessageCount = (int)(truncated > 0 ? truncated : messages.Count(m => m.Sequence >= first)),
            });
        }
        else if (history?["summary"] is { } other && other.GetValueKind() != JsonValueKind.String)
        {
            Note("summary is not text; not mapped");
        }
        var record = new PortableSession(meta, lastSequence, summarizedThrough, messages, summaries);
        try
        {
            SessionTransfer.Validate(record);
        }
        catch (InvalidPortableSessionException ex)
        {
            return new V1Session(id, null, ex.Message + "; session skipped", notes);
        }
        return new V1Session(id, record, null, notes);
    }

    private List<Message> MapMessages(JsonArray? source, long truncated, DateTimeOffset? created, Action<string> note)
    {
        var list = new List<Message>();
        if (source is null)
        {
            return list;
        }
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var previous = created ?? DateTimeOffset.UnixEpoch;
        for (var i = 0; i < source.Count; i++)
        {
            if (source[i] is not JsonObject o)
            {
                note($"message {i} is not a JSON object; left out");
                continue;
            }
            if (!MessageRoles.TryParse(Str(o["role"]), out var role))
            {
                note($"message {i} has role '{Str(o["role"])}', which V2 does not know; left out");
                continue;
            }
            var m = new Message { Role = role, Content = ContentOf(o["content"], i, note) };
            m.Timestamp = V1Timestamps.Parse(Scalar(o["timestamp"]), options.SourceTimeZone) ?? previous;
            if (o["timestamp"] is not null && V1Timestamps.Parse(Scalar(o["timestamp"]), options.SourceTimeZone) is null)
            {
                note($"message {i} timestamp {o["timestamp"]!.ToJsonString()} is not a time; the previous message's time is used");
            }
            var messageId = Str(o["id"]);
            if (string.IsNullOrEmpty(messageId) || !ids.Add(messageId))
            {
                var fresh = $"v1-{i}";
                if (!string.IsNullOrEmpty(messageId))
                {
                    note($"message {i} id '{messageId}' repeats an earlier one; stored as '{fresh}'");
                }
                messageId = fresh;
                ids.Add(fresh);
            }
            m.MessageId = messageId;
            if (o["metadata"] is JsonObject md)
            {
                foreach (var (k, v) in md)
                {
                    m.Metadata[k] = v?.DeepClone();
                }
            }
            CopyIfPresent(o, m.Metadata, "tool_call_id");
            CopyIfPresent(o, m.Metadata, "provider_message_id");
            CopyIfPresent(o, m.Metadata, "name");
            if (o["tool_calls"] is JsonArray { Count: > 0 } calls)
            {
                m.ToolCalls = (JsonArray)calls.DeepClone();
            }
            if (!Valid(m))
            {
                if (m.ToolCalls is not null)
                {
                    m.Metadata["v1_tool_calls"] = m.ToolCalls;
                    m.ToolCalls = null;
                    note($"message {i} tool_calls are not of OpenAI's shape; kept in its metadata.v1_tool_calls");
                }
                if (!Valid(m))
                {
                    note($"message {i} ({role.ToWireName()}) cannot be stored (empty content or a value over the limits); left out");
                    continue;
                }
            }
            m.Sequence = truncated + list.Count + 1;
            previous = m.Timestamp;
            list.Add(m);
        }
        return list;
    }

    private static bool Valid(Message m)
    {
        try
        {
            MessageValidator.ValidateMessage(m);
            return true;
        }
        catch (InvalidMessageException)
        {
            return false;
        }
    }

    private static string ContentOf(JsonNode? content, int index, Action<string> note)
    {
        switch (content)
        {
            case null:
                return string.Empty;
            case JsonValue v when v.TryGetValue<string>(out var s):
                return s;
            case JsonArray parts when parts.All(p => p is JsonObject po && po["text"] is JsonValue):
                note($"message {index} content is a list of parts; their text is joined");
                return string.Concat(parts.Select(p => Str(p!["text"])));
            default:
                note($"message {index} content is {content.GetValueKind()}; stored as its JSON text");
                return content.ToJsonString();
        }
    }

    private static SessionStatus MapStatus(string? status, Action<string> note)
    {
        switch (status?.Trim().ToLowerInvariant())
        {
            case "active" or "inactive":
                return SessionStatus.Active;
            case "archived":
                return SessionStatus.Archived;
            case "expired":
                return SessionStatus.Expired;
            default:
                note($"status '{status}' is not a V1 status; the session is active");
                return SessionStatus.Active;
        }
    }

    private static object? Scalar(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<long>(out var l) => l,
        JsonValue v when v.TryGetValue<double>(out var d) => d,
        _ => null,
    };

    private static string? Str(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : node?.ToJsonString();

    private static string? Text(object? value) => value switch
    {
        null or DBNull => null,
        string s => s,
        byte[] b => System.Text.Encoding.UTF8.GetString(b),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    private static void AddIfPresent(JsonObject target, string key, object? value)
    {
        switch (value)
        {
            case null or DBNull:
                return;
            case long l:
                target[key] = l;
                return;
            case double d:
                target[key] = d;
                return;
            default:
                var text = Text(value)!;
                // session_control and similar columns may hold JSON; keep its structure when they do.
                try
                {
                    target[key] = text.StartsWith('{') || text.StartsWith('[') ? JsonNode.Parse(text) : text;
                }
                catch (JsonException)
                {
                    target[key] = text;
                }
                return;
        }
    }

    private static void CopyIfPresent(JsonObject source, JsonObject target, string key)
    {
        if (source[key] is { } node)
        {
            target[key] = node.DeepClone();
        }
    }
}
