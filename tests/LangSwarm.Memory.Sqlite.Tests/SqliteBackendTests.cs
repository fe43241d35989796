using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Xunit;

namespace LangSwarm.Memory.Sqlite.Tests;

/// <summary>What the SQLite backend does beyond the shared suite: files, schema, vacuum, errors.</summary>
public sealed class SqliteBackendTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static Message Msg(MessageRole role, string content, int tokens = 10) => new(role, content) { TokenCount = tokens };

    private static async Task<SqliteBackend> OpenAsync(string path, SqliteDurability durability = SqliteDurability.Full)
    {
        var backend = new SqliteBackend(new SqliteBackendOptions { DbPath = path, Durability = durability });
        await backend.ConnectAsync();
        return backend;
    }

    private static long Scalar(string path, string sql)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Reopen_OfAFile_KeepsEverything()
    {
        var path = _dir.File("keep.db");
        var created = new DateTimeOffset(2026, 2, 3, 4, 5, 6, TimeSpan.FromHours(3)).AddTicks(42);
        var sent = new Message(MessageRole.User, "remember me ünïcødé")
        {
            TokenCount = 7,
            Timestamp = created,
            Metadata = new JsonObject { ["a"] = new JsonArray(1, "two", null), ["n"] = 1.25 },
        };
        await using (var first = await OpenAsync(path))
        {
            var s = await first.CreateSessionAsync(new SessionMetadata("keep", "u1")
            {
                CreatedAt = created,
                UpdatedAt = created,
                SummaryStrategy = SummaryStrategy.Manual,
                Metadata = new JsonObject { ["k"] = "v" },
            });
            await s.AddMessagesAsync([sent, ToolCallMessage()]);
            await s.CreateSummaryAsync();
        }

        await using var second = await OpenAsync(path);
        var back = (await second.GetSessionAsync("keep"))!;
        Assert.Equal("u1", back.Metadata.UserId);
        Assert.Equal(created.UtcTicks, back.Metadata.CreatedAt.UtcTicks);
        Assert.Equal("{\"k\":\"v\"}", back.Metadata.Metadata.ToJsonString());
        var got = await back.GetMessagesAsync();
        Assert.Equal(2, got.Count);
        Assert.Equal(sent.Content, got[0].Content);
        Assert.Equal(created.UtcTicks, got[0].Timestamp.UtcTicks);
        Assert.Equal(sent.Metadata.ToJsonString(), got[0].Metadata.ToJsonString());
        Assert.Equal(ToolCallMessage().ToolCalls!.ToJsonString(), got[1].ToolCalls!.ToJsonString());
        Assert.True(got[1].HasCalls);
        Assert.Single(await back.GetSummariesAsync());
        var next = Msg(MessageRole.User, "later");
        await back.AddMessageAsync(next);
        Assert.Equal(3, next.Sequence);
    }

    [Fact]
    public async Task MemoryDatabase_Works_SurvivesReconnect_AndIsPrivatePerBackend()
    {
        await using var a = new SqliteBackend(SqliteBackendOptions.InMemoryPath);
        await using var b = new SqliteBackend(SqliteBackendOptions.InMemoryPath);
        await a.ConnectAsync();
        await b.ConnectAsync();
        Assert.True(a.IsInMemoryDatabase);
        var s = await a.CreateSessionAsync(new SessionMetadata("mem", "u") { SummaryStrategy = SummaryStrategy.Manual });
        await s.AddMessageAsync(Msg(MessageRole.User, "in memory"));
        Assert.Null(await b.GetSessionAsync("mem"));

        await a.DisconnectAsync();
        await a.ConnectAsync();
        Assert.Equal("in memory", (await (await a.GetSessionAsync("mem"))!.GetMessagesAsync()).Single().Content);
        var stats = await a.GetUsageStatsAsync();
        Assert.True(stats.StorageBytes > 0);
        Assert.Equal(":memory:", stats.Extra["db_path"]);
    }

    [Fact]
    public async Task SchemaVersion_IsWritten_AndFileUsesWal()
    {
        var path = _dir.File("schema.db");
        await using (var backend = await OpenAsync(path))
        {
            var stats = await backend.GetUsageStatsAsync();
            Assert.Equal("wal", stats.Extra["journal_mode"]);
            Assert.Equal(SqliteSchema.CurrentVersion, stats.Extra["schema_version"]);
        }
        Assert.Equal(SqliteSchema.CurrentVersion, Scalar(path, "SELECT MAX(version) FROM schema_version"));
        Assert.Equal(SqliteSchema.CurrentVersion, Scalar(path, "SELECT COUNT(*) FROM schema_version"));
        foreach (var index in new[] { "ix_messages_session_timestamp", "ix_summaries_session", "ix_sessions_user_updated", "ix_sessions_status_updated", "ix_sessions_updated" })
        {
            Assert.Equal(1, Scalar(path, $"SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = '{index}'"));
        }

        // Opening again migrates nothing twice.
        await using (var again = await OpenAsync(path))
        {
            Assert.Empty(await again.ListSessionsAsync());
        }
        Assert.Equal(SqliteSchema.CurrentVersion, Scalar(path, "SELECT COUNT(*) FROM schema_version"));
    }

    [Fact]
    public async Task Version1Database_Migrates_AndItsSessionsGetTheDefaultLowWaterMark()
    {
        var path = _dir.File("v1.db");
        await using (var backend = await OpenAsync(path))
        {
            await backend.CreateSessionAsync(new SessionMetadata("old", "u") { EvictionLowWater = 0.5, MaxMessages = 9 });
        }
        // Back to the version 1 layout: no eviction_low_water column (nor what versions 3 and 4 added), one migration recorded.
        Scalar(path, "ALTER TABLE sessions DROP COLUMN eviction_low_water; ALTER TABLE sessions DROP COLUMN incarnation; " +
            "ALTER TABLE sessions DROP COLUMN revision; DROP TABLE counters; DROP INDEX ix_messages_session_role; " +
            "DELETE FROM schema_version WHERE version > 1; SELECT 0");
        Assert.Equal(1, Scalar(path, "SELECT MAX(version) FROM schema_version"));

        await using (var backend = await OpenAsync(path))
        {
            var old = (await backend.GetSessionAsync("old"))!.Metadata;
            Assert.Equal(SessionMetadata.DefaultEvictionLowWater, old.EvictionLowWater);
            Assert.Equal(9, old.MaxMessages);
            var s = await backend.CreateSessionAsync(new SessionMetadata("new", "u") { EvictionLowWater = 0.25 });
            Assert.Equal(0.25, s.Metadata.EvictionLowWater);
        }
        Assert.Equal(SqliteSchema.CurrentVersion, Scalar(path, "SELECT MAX(version) FROM schema_version"));
        Assert.Equal(1, Scalar(path, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'ix_messages_session_role'"));
        await using var again = await OpenAsync(path);
        Assert.Equal(0.25, (await again.GetSessionAsync("new"))!.Metadata.EvictionLowWater);
    }

    [Fact]
    public async Task NewerSchema_IsRefused()
    {
        var path = _dir.File("future.db");
        await using (await OpenAsync(path))
        {
        }
        Scalar(path, "INSERT INTO schema_version (version, applied_at) VALUES (99, 0); SELECT 0");
        await using var backend = new SqliteBackend(path);
        var ex = await Assert.ThrowsAsync<StorageCorruptionException>(() => backend.ConnectAsync());
        Assert.Contains("99", ex.Message, StringComparison.Ordinal);
        Assert.False(backend.IsConnected);
        Assert.Contains("99", (await backend.HealthCheckAsync()).LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NotADatabase_FailsAsCorruption_AndUnopenablePath_AsUnavailable()
    {
        var junk = _dir.File("junk.db");
        await File.WriteAllTextAsync(junk, new string('x', 4096));
        await using var corrupt = new SqliteBackend(junk);
        await Assert.ThrowsAsync<StorageCorruptionException>(() => corrupt.ConnectAsync());

        var blocker = _dir.File("a-file");
        await File.WriteAllTextAsync(blocker, "not a directory");
        await using var unreachable = new SqliteBackend(Path.Combine(blocker, "db.sqlite"));
        await Assert.ThrowsAsync<BackendUnavailableException>(() => unreachable.ConnectAsync());
        Assert.Equal(HealthStatus.Unhealthy, (await unreachable.HealthCheckAsync()).Status);
    }

    [Fact]
    public async Task Vacuum_ShrinksTheFile_AfterDeletingManySessions()
    {
        var path = _dir.File("vacuum.db");
        await using var backend = await OpenAsync(path, SqliteDurability.Normal);
        var body = new string('v', 2000);
        for (var i = 0; i < 40; i++)
        {
            var s = await backend.CreateSessionAsync(new SessionMetadata($"v-{i}", "u") { SummaryStrategy = SummaryStrategy.Manual });
            await s.AddMessagesAsync(Enumerable.Range(0, 25).Select(n => Msg(MessageRole.User, $"{n} {body}")));
        }
        for (var i = 0; i < 40; i++)
        {
            Assert.True(await backend.DeleteSessionAsync($"v-{i}"));
        }
        var before = (await backend.GetUsageStatsAsync()).StorageBytes;
        var reclaimed = await backend.VacuumDatabaseAsync();
        var after = (await backend.GetUsageStatsAsync()).StorageBytes;
        Assert.True(reclaimed > 1_000_000, $"reclaimed {reclaimed} bytes");
        Assert.True(after < before / 4, $"before {before}, after {after}");
        Assert.Equal(0, (await backend.GetUsageStatsAsync()).TotalMessages);
    }

    [Fact]
    public async Task DeletingASession_RemovesItsRows()
    {
        var path = _dir.File("cascade.db");
        await using (var backend = await OpenAsync(path))
        {
            var s = await backend.CreateSessionAsync(new SessionMetadata("gone", "u") { SummaryStrategy = SummaryStrategy.Manual });
            await s.AddMessagesAsync([Msg(MessageRole.User, "a"), Msg(MessageRole.Assistant, "b")]);
            await s.CreateSummaryAsync();
            await backend.CreateSessionAsync(new SessionMetadata("stays", "u"));
            Assert.True(await backend.DeleteSessionAsync("gone"));
        }
        Assert.Equal(0, Scalar(path, "SELECT COUNT(*) FROM messages"));
        Assert.Equal(0, Scalar(path, "SELECT COUNT(*) FROM summaries"));
        Assert.Equal(1, Scalar(path, "SELECT COUNT(*) FROM sessions"));
    }

    [Fact]
    public async Task WithoutWalOrForeignKeys_FilesStillWorkAndDeleteCompletely()
    {
        var path = _dir.File("plain.db");
        var options = new SqliteBackendOptions { DbPath = path, EnableWal = false, EnableForeignKeys = false, Durability = SqliteDurability.Normal };
        await using (var backend = new SqliteBackend(options))
        {
            await backend.ConnectAsync();
            Assert.Equal("delete", (await backend.GetUsageStatsAsync()).Extra["journal_mode"]);
            var s = await backend.CreateSessionAsync(new SessionMetadata("plain", "u") { SummaryStrategy = SummaryStrategy.Manual });
            await s.AddMessagesAsync([Msg(MessageRole.User, "a"), Msg(MessageRole.Assistant, "b")]);
            await s.CreateSummaryAsync();
            await backend.CreateSessionAsync(new SessionMetadata("other", "u"));
            Assert.True(await backend.DeleteSessionAsync("plain"));
        }
        Assert.False(File.Exists(path + "-wal"));
        Assert.Equal(0, Scalar(path, "SELECT COUNT(*) FROM messages"));
        Assert.Equal(0, Scalar(path, "SELECT COUNT(*) FROM summaries"));
        await using var reopened = new SqliteBackend(options);
        await reopened.ConnectAsync();
        Assert.Equal(["other"], (await reopened.ListSessionsAsync()).Select(m => m.SessionId));
    }

    [Fact]
    public async Task ListSessions_TiesFollowOrdinalOrder_BeyondTheBasicPlane()
    {
        await using var backend = new SqliteBackend(SqliteBackendOptions.InMemoryPath);
        await backend.ConnectAsync();
        var t = DateTimeOffset.UtcNow;
        // UTF-8 byte order puts U+FF21 before U+1F600; UTF-16 ordinal order (the listing order) puts it after.
        string[] ids = ["\uFF21", "\U0001F600", "a"];
        foreach (var id in ids)
        {
            await backend.CreateSessionAsync(new SessionMetadata(id, "u") { CreatedAt = t, UpdatedAt = t });
        }
        var listed = (await backend.ListSessionsAsync()).Select(m => m.SessionId).ToArray();
        Assert.Equal(ids.Order(StringComparer.Ordinal), listed);
    }

    [Fact]
    public async Task TwoBackendsOnOneFile_SeeEachOthersWrites()
    {
        var path = _dir.File("shared.db");
        await using var a = await OpenAsync(path);
        await using var b = await OpenAsync(path);
        var s = await a.CreateSessionAsync(new SessionMetadata("shared", "u") { SummaryStrategy = SummaryStrategy.Manual });
        await s.AddMessageAsync(Msg(MessageRole.User, "from a"));
        var seen = await b.GetSessionAsync("shared");
        Assert.Equal("from a", (await seen!.GetMessagesAsync()).Single().Content);
    }

    [Fact]
    public void Options_AreValidated()
    {
        Assert.Throws<ArgumentException>(() => new SqliteBackend(new SqliteBackendOptions { DbPath = " " }));
        Assert.Throws<ArgumentException>(() => new SqliteBackend(new SqliteBackendOptions { BusyTimeoutMs = -1 }));
        Assert.Throws<ArgumentException>(() => new SqliteBackend(new SqliteBackendOptions { Durability = (SqliteDurability)9 }));
    }

    private static Message ToolCallMessage() => new(MessageRole.Assistant, string.Empty)
    {
        TokenCount = 5,
        ToolCalls = [new JsonObject { ["id"] = "c1", ["type"] = "function", ["function"] = new JsonObject { ["name"] = "f", ["arguments"] = "{}" } }],
    };
}
