using System.Text.Json.Nodes;
using Xunit;

namespace LangSwarm.Memory.Conformance;

public abstract partial class BackendConformanceTests
{
    [Fact]
    public async Task CreateThenGet_RoundTripsMetadata()
    {
        var created = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.FromHours(2)).AddTicks(1234567);
        var meta = new SessionMetadata("chat_456", "user_123")
        {
            CreatedAt = created,
            UpdatedAt = created,
            MaxMessages = 500,
            MaxTokens = 16000,
            AutoSummarizeThreshold = 50,
            SummaryStrategy = SummaryStrategy.Rolling,
            Metadata = new JsonObject { ["app"] = "chatbot", ["version"] = 2.5, ["tags"] = new JsonArray("a", "b"), ["nested"] = new JsonObject { ["x"] = null } },
        };
        var session = await Backend.CreateSessionAsync(meta);
        Assert.Equal("chat_456", session.SessionId);

        var got = await Backend.GetSessionAsync("chat_456");
        Assert.NotNull(got);
        var m = got!.Metadata;
        Assert.Equal("user_123", m.UserId);
        Assert.Equal(created.UtcTicks, m.CreatedAt.UtcTicks);
        Assert.Equal(500, m.MaxMessages);
        Assert.Equal(16000, m.MaxTokens);
        Assert.Equal(50, m.AutoSummarizeThreshold);
        Assert.Equal(SummaryStrategy.Rolling, m.SummaryStrategy);
        Assert.Equal(SessionStatus.Active, m.Status);
        Assert.Equal(meta.Metadata.ToJsonString(), m.Metadata.ToJsonString());
    }

    [Fact]
    public async Task CreateDuplicate_Throws_AndKeepsOriginal()
    {
        var s = await NewSessionAsync(id: "dup");
        await s.AddMessageAsync(Msg(MessageRole.User, "keep me"));
        await Assert.ThrowsAsync<SessionAlreadyExistsException>(() => Backend.CreateSessionAsync(new SessionMetadata("dup", "other")));
        var again = await Backend.GetSessionAsync("dup");
        Assert.Equal("user-1", again!.Metadata.UserId);
        Assert.Single(await again.GetMessagesAsync());
    }

    [Fact]
    public async Task GetMissing_ReturnsNull()
    {
        Assert.Null(await Backend.GetSessionAsync("nope"));
        Assert.False(await Backend.DeleteSessionAsync("nope"));
    }

    [Fact]
    public async Task ListSessions_OrdersByActivity_FiltersAndPages()
    {
        var baseTime = DateTimeOffset.UtcNow.AddHours(-10);
        for (var i = 0; i < 7; i++)
        {
            await Backend.CreateSessionAsync(new SessionMetadata($"list-{i}", i % 2 == 0 ? "alice" : "bob")
            {
                CreatedAt = baseTime,
                UpdatedAt = baseTime.AddMinutes(i),
            });
        }
        var all = await Backend.ListSessionsAsync();
        Assert.Equal(["list-6", "list-5", "list-4", "list-3", "list-2", "list-1", "list-0"], all.Select(s => s.SessionId));

        var alice = await Backend.ListSessionsAsync(userId: "alice");
        Assert.Equal(["list-6", "list-4", "list-2", "list-0"], alice.Select(s => s.SessionId));

        var page = await Backend.ListSessionsAsync(limit: 3, offset: 2);
        Assert.Equal(["list-4", "list-3", "list-2"], page.Select(s => s.SessionId));
        Assert.Empty(await Backend.ListSessionsAsync(limit: 3, offset: 7));
        Assert.Empty(await Backend.ListSessionsAsync(limit: 0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Backend.ListSessionsAsync(limit: -1));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Backend.ListSessionsAsync(offset: -1));
    }

    [Fact]
    public async Task ListSessions_TiesOrderById()
    {
        var t = DateTimeOffset.UtcNow.AddHours(-1);
        foreach (var id in new[] { "tie-c", "tie-a", "tie-b" })
        {
            await Backend.CreateSessionAsync(new SessionMetadata(id, "tie") { CreatedAt = t, UpdatedAt = t });
        }
        var list = await Backend.ListSessionsAsync(userId: "tie");
        Assert.Equal(["tie-a", "tie-b", "tie-c"], list.Select(s => s.SessionId));
    }

    [Fact]
    public async Task AddingAMessage_MovesSessionToTheFront()
    {
        var t = DateTimeOffset.UtcNow.AddHours(-5);
        var older = await Backend.CreateSessionAsync(new SessionMetadata("front-old", "u") { CreatedAt = t, UpdatedAt = t });
        await Backend.CreateSessionAsync(new SessionMetadata("front-new", "u") { CreatedAt = t, UpdatedAt = t.AddHours(1) });
        await older.AddMessageAsync(Msg(MessageRole.User, "hello"));
        var list = await Backend.ListSessionsAsync(userId: "u");
        Assert.Equal("front-old", list[0].SessionId);
        Assert.True(list[0].UpdatedAt > t.AddHours(1));
    }

    [Fact]
    public async Task Archive_ChangesStatus_ListsByStatus_AndRefusesAdds()
    {
        var a = await NewSessionAsync(id: "arch-a");
        await NewSessionAsync(id: "arch-b");
        await a.AddMessageAsync(Msg(MessageRole.User, "before archive"));
        await a.ArchiveSessionAsync();
        Assert.Equal(SessionStatus.Archived, a.Metadata.Status);

        var archived = await Backend.ListSessionsAsync(status: SessionStatus.Archived);
        Assert.Equal(["arch-a"], archived.Select(s => s.SessionId));
        var active = await Backend.ListSessionsAsync(status: SessionStatus.Active);
        Assert.Equal(["arch-b"], active.Select(s => s.SessionId));

        await Assert.ThrowsAsync<SessionArchivedException>(() => a.AddMessageAsync(Msg(MessageRole.User, "after")));
        var reread = await Backend.GetSessionAsync("arch-a");
        Assert.Equal(["before archive"], (await reread!.GetMessagesAsync()).Select(m => m.Content));
    }

    [Fact]
    public async Task Delete_RemovesEverything_AndLaterOpsFailClearly()
    {
        var s = await NewSessionAsync(id: "del");
        await s.AddMessageAsync(Msg(MessageRole.User, "bye"));
        await s.CreateSummaryAsync();
        Assert.True(await Backend.DeleteSessionAsync("del"));
        Assert.Null(await Backend.GetSessionAsync("del"));
        Assert.False(await Backend.DeleteSessionAsync("del"));
        Assert.Empty(await Backend.ListSessionsAsync());
        await Assert.ThrowsAsync<SessionNotFoundException>(() => s.AddMessageAsync(Msg(MessageRole.User, "again")));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => s.GetMessagesAsync());
        await Assert.ThrowsAsync<SessionNotFoundException>(() => s.DeleteSessionAsync());

        // The id is free again, and the new session starts empty.
        var reborn = await NewSessionAsync(id: "del");
        Assert.Empty(await reborn.GetMessagesAsync());
        Assert.Empty(await reborn.GetSummariesAsync());
    }

    [Fact]
    public async Task SessionDelete_ThroughTheSession()
    {
        var s = await NewSessionAsync(id: "self-del");
        await s.DeleteSessionAsync();
        Assert.Null(await Backend.GetSessionAsync("self-del"));
    }

    [Fact]
    public async Task CleanupExpired_DeletesOnlyIdleSessions()
    {
        var old = DateTimeOffset.UtcNow.AddDays(-40);
        await Backend.CreateSessionAsync(new SessionMetadata("old-1", "u") { CreatedAt = old, UpdatedAt = old });
        await Backend.CreateSessionAsync(new SessionMetadata("old-2", "u") { CreatedAt = old, UpdatedAt = old.AddDays(5) });
        await Backend.CreateSessionAsync(new SessionMetadata("recent", "u") { CreatedAt = old, UpdatedAt = DateTimeOffset.UtcNow.AddDays(-2) });
        var revived = await Backend.CreateSessionAsync(new SessionMetadata("revived", "u") { CreatedAt = old, UpdatedAt = old });
        await revived.AddMessageAsync(Msg(MessageRole.User, "I am back"));

        Assert.Equal(2, await Backend.CleanupExpiredSessionsAsync(30));
        var left = (await Backend.ListSessionsAsync()).Select(s => s.SessionId).Order().ToArray();
        Assert.Equal(["recent", "revived"], left);
        Assert.Equal(0, await Backend.CleanupExpiredSessionsAsync(30));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Backend.CleanupExpiredSessionsAsync(-1));
    }

    [Fact]
    public async Task UpdateMetadata_SetsTypedAndCustomFields()
    {
        var s = await NewSessionAsync();
        await s.UpdateMetadataAsync(new Dictionary<string, object?>
        {
            ["max_tokens"] = 32000,
            ["MaxMessages"] = 42,
            ["summary_strategy"] = "rolling",
            ["custom_field"] = "value",
            ["nested"] = new JsonObject { ["k"] = new JsonArray(1, 2) },
            ["count"] = 7,
        });
        var m = (await Backend.GetSessionAsync(s.SessionId))!.Metadata;
        Assert.Equal(32000, m.MaxTokens);
        Assert.Equal(42, m.MaxMessages);
        Assert.Equal(SummaryStrategy.Rolling, m.SummaryStrategy);
        Assert.Equal("value", m.Metadata["custom_field"]!.GetValue<string>());
        Assert.Equal("{\"k\":[1,2]}", m.Metadata["nested"]!.ToJsonString());
        Assert.Equal(7, m.Metadata["count"]!.GetValue<int>());

        await s.UpdateMetadataAsync(new Dictionary<string, object?> { ["custom_field"] = null });
        Assert.False((await Backend.GetSessionAsync(s.SessionId))!.Metadata.Metadata.ContainsKey("custom_field"));

        await Assert.ThrowsAsync<ArgumentException>(() => s.UpdateMetadataAsync(new Dictionary<string, object?> { ["max_tokens"] = -5 }));
        await Assert.ThrowsAsync<ArgumentException>(() => s.UpdateMetadataAsync(new Dictionary<string, object?> { ["max_tokens"] = "lots" }));
        await Assert.ThrowsAsync<ArgumentException>(() => s.UpdateMetadataAsync(new Dictionary<string, object?> { ["summary_strategy"] = "sometimes" }));
        await Assert.ThrowsAsync<ArgumentException>(() => s.UpdateMetadataAsync(new Dictionary<string, object?> { ["session_id"] = "other" }));
        Assert.Equal(32000, (await Backend.GetSessionAsync(s.SessionId))!.Metadata.MaxTokens);
    }

    [Fact]
    public async Task UsageStats_AndHealth_ReportTheStore()
    {
        var a = await NewSessionAsync();
        var b = await NewSessionAsync();
        await a.AddMessagesAsync([Msg(MessageRole.User, "one"), Msg(MessageRole.Assistant, "two")]);
        await b.AddMessageAsync(Msg(MessageRole.User, "three"));
        await b.ArchiveSessionAsync();
        var stats = await Backend.GetUsageStatsAsync();
        Assert.Equal(2, stats.TotalSessions);
        Assert.Equal(1, stats.ActiveSessions);
        Assert.Equal(1, stats.ArchivedSessions);
        Assert.Equal(3, stats.TotalMessages);
        Assert.True(stats.StorageBytes > 0);
        var dict = stats.ToDictionary();
        Assert.Equal(2L, dict["total_sessions"]);
        Assert.True(dict.ContainsKey("storage_size_mb"));

        var health = await Backend.HealthCheckAsync();
        Assert.Equal(HealthStatus.Healthy, health.Status);
        Assert.True(health.Connected);
        Assert.Equal("healthy", health.ToDictionary()["status"]);
    }

    [Fact]
    public async Task Disconnected_FailsClearly_AndReconnects()
    {
        var s = await NewSessionAsync(id: "conn");
        await s.AddMessageAsync(Msg(MessageRole.User, "persist me"));
        await Backend.DisconnectAsync();
        Assert.False(Backend.IsConnected);
        await Assert.ThrowsAsync<BackendUnavailableException>(() => Backend.ListSessionsAsync());
        Assert.Equal(HealthStatus.Unhealthy, (await Backend.HealthCheckAsync()).Status);
        await Backend.DisconnectAsync(); // idempotent
        await Backend.ConnectAsync();
        await Backend.ConnectAsync(); // idempotent
        var again = await Backend.GetSessionAsync("conn");
        Assert.Equal("persist me", (await again!.GetMessagesAsync()).Single().Content);
    }

    [Fact]
    public async Task Reopen_KeepsSessionsMessagesAndSummaries()
    {
        var s = await NewSessionAsync(id: "reopen", configure: m => m.Metadata["k"] = "v");
        var sent = new List<Message>();
        for (var i = 0; i < 25; i++)
        {
            var m = Msg(i % 2 == 0 ? MessageRole.User : MessageRole.Assistant, $"message {i} " + new string('x', i * 13));
            sent.Add(m);
        }
        await s.AddMessagesAsync(sent.Take(5));
        foreach (var m in sent.Skip(5))
        {
            await s.AddMessageAsync(m);
        }
        var summary = await s.CreateSummaryAsync();
        await NewSessionAsync(id: "reopen-2", userId: "other");
        await (await Backend.GetSessionAsync("reopen-2"))!.ArchiveSessionAsync();

        await ReopenBackendAsync();

        var back = await Backend.GetSessionAsync("reopen");
        Assert.NotNull(back);
        Assert.Equal("v", back!.Metadata.Metadata["k"]!.GetValue<string>());
        var got = await back.GetMessagesAsync();
        Assert.Equal(sent.Count, got.Count);
        for (var i = 0; i < sent.Count; i++)
        {
            AssertSameMessage(sent[i], got[i]);
        }
        var summaries = await back.GetSummariesAsync();
        Assert.Equal(summary.SummaryText, Assert.Single(summaries).SummaryText);
        Assert.Equal(SessionStatus.Archived, (await Backend.GetSessionAsync("reopen-2"))!.Metadata.Status);

        // Sequences continue after a reopen.
        var next = Msg(MessageRole.User, "after reopen");
        await back.AddMessageAsync(next);
        Assert.Equal(sent.Count + 1, next.Sequence);
    }
}
