using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;

namespace LangSwarm.Memory.Cli.Tests;

/// <summary>Builds LangSwarm V1 session stores (<c>langswarm_sessions.db</c>) from V1's schema.</summary>
internal static class V1Store
{
    public const string Schema = """
        CREATE TABLE sessions (
            session_id TEXT PRIMARY KEY,
            user_id TEXT,
            provider TEXT,
            model TEXT,
            status TEXT,
            session_control TEXT,
            created_at TEXT,
            updated_at TEXT,
            last_activity TEXT,
            metadata TEXT,
            history TEXT
        )
        """;

    /// <summary>A V1 file with: tool calls, a summary over truncated messages, odd timestamps, odd roles and content, and a malformed history row.</summary>
    public static async Task<string> CreateAsync(string path)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync();
        await Exec(connection, Schema);
        await Insert(connection, "v1-tools", "alice", "openai", "gpt-4o", "active", "{\"max_messages\": 50}", "2024-03-10T08:00:00.123456", "2024-03-10T08:05:00", "2024-03-10 08:06:30", "{\"topic\": \"weather\"}", new JsonObject
        {
            ["session_id"] = "v1-tools",
            ["messages"] = new JsonArray
            {
                V1Message("a1", "system", "You are helpful.", "2024-03-10T08:00:01"),
                V1Message("a2", "user", "Weather in Oslo?", "2024-03-10T08:00:02"),
                new JsonObject
                {
                    ["id"] = "a3", ["role"] = "assistant", ["content"] = null, ["timestamp"] = "2024-03-10T08:00:03",
                    ["tool_calls"] = new JsonArray { new JsonObject { ["id"] = "call_9", ["type"] = "function", ["function"] = new JsonObject { ["name"] = "weather", ["arguments"] = "{\"city\":\"Oslo\"}" } } },
                },
                new JsonObject { ["id"] = "a4", ["role"] = "tool", ["content"] = "-3 C", ["timestamp"] = "2024-03-10T08:00:04", ["tool_call_id"] = "call_9" },
                new JsonObject { ["id"] = "a5", ["role"] = "assistant", ["content"] = "It is -3 °C in Oslo.", ["timestamp"] = "2024-03-10T08:00:05", ["provider_message_id"] = "chatcmpl-123", ["metadata"] = new JsonObject { ["finish_reason"] = "stop" } },
            },
            ["summary"] = null,
            ["total_tokens"] = 120,
            ["truncated_at"] = null,
        });
        await Insert(connection, "v1-summary", "bob", "anthropic", "claude-3", "archived", null, "2024-03-11T10:00:00", "2024-03-11T11:00:00", null, null, new JsonObject
        {
            ["session_id"] = "v1-summary",
            ["messages"] = new JsonArray
            {
                V1Message("b5", "user", "And the second part?", "2024-03-11T10:30:00Z"),
                new JsonObject { ["id"] = "b6", ["role"] = "function", ["content"] = "{\"rows\": 3}", ["timestamp"] = 1710153060, ["name"] = "lookup" },
                V1Message("b7", "assistant", "Three rows.", "not a time"),
            },
            ["summary"] = "Bob asked about the first part; it was answered.",
            ["total_tokens"] = 300,
            ["truncated_at"] = 4,
        });
        await Insert(connection, "v1-broken", "carol", "openai", "gpt-4o", "active", null, "2024-03-12T09:00:00", "2024-03-12T09:00:00", null, null, "{\"messages\": [ {\"role\": \"user\", ");
        await Insert(connection, "v1-odd", null, null, null, "inactive", null, "2024-07-01T12:00:00", "2024-07-01T12:00:00", null, "[1, 2]", new JsonObject
        {
            ["messages"] = new JsonArray
            {
                V1Message("d1", "narrator", "Once upon a time", "2024-07-01T12:00:01"),
                new JsonObject { ["id"] = "d2", ["role"] = "user", ["content"] = new JsonArray { new JsonObject { ["type"] = "text", ["text"] = "Part one, " }, new JsonObject { ["type"] = "text", ["text"] = "part two." } }, ["timestamp"] = "2024-07-01T12:00:02" },
                V1Message("d2", "assistant", "Same id again.", "2024-07-01T12:00:03"),
            },
        });
        return path;
    }

    private static JsonObject V1Message(string id, string role, string content, string timestamp) =>
        new() { ["id"] = id, ["role"] = role, ["content"] = content, ["timestamp"] = timestamp, ["metadata"] = new JsonObject() };

    private static async Task Insert(SqliteConnection c, string id, string? user, string? provider, string? model, string status, string? control, string created, string updated, string? last, string? metadata, object history)
    {
        await using var command = c.CreateCommand();
        command.CommandText = "INSERT INTO sessions VALUES ($id, $user, $provider, $model, $status, $control, $created, $updated, $last, $metadata, $history)";
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$user", (object?)user ?? DBNull.Value);
        command.Parameters.AddWithValue("$provider", (object?)provider ?? DBNull.Value);
        command.Parameters.AddWithValue("$model", (object?)model ?? DBNull.Value);
        command.Parameters.AddWithValue("$status", status);
        command.Parameters.AddWithValue("$control", (object?)control ?? DBNull.Value);
        command.Parameters.AddWithValue("$created", created);
        command.Parameters.AddWithValue("$updated", updated);
        command.Parameters.AddWithValue("$last", (object?)last ?? DBNull.Value);
        command.Parameters.AddWithValue("$metadata", (object?)metadata ?? DBNull.Value);
        command.Parameters.AddWithValue("$history", history is JsonNode node ? node.ToJsonString() : history);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task Exec(SqliteConnection c, string sql)
    {
        await using var command = c.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
