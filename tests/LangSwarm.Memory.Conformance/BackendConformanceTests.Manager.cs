using Xunit;

namespace LangSwarm.Memory.Conformance;

public abstract partial class BackendConformanceTests
{
    /// <summary>
    /// A manager over the backend under test. It is not shut down by the tests (that would dispose the backend the
    /// suite disposes itself).
    /// </summary>
    protected virtual MemoryManager CreateManager() => new(Backend);

    [Fact]
    public async Task ListSessions_ByUserAndStatusTogether()
    {
        var t = DateTimeOffset.UtcNow.AddHours(-3);
        var specs = new (string Id, string User, bool Archive)[]
        {
            ("us-a1", "alice", false), ("us-a2", "alice", true), ("us-a3", "alice", false),
            ("us-a4", "alice", true), ("us-b1", "bob", false), ("us-b2", "bob", true),
        };
        for (var i = 0; i < specs.Length; i++)
        {
            var s = await Backend.CreateSessionAsync(new SessionMetadata(specs[i].Id, specs[i].User) { CreatedAt = t, UpdatedAt = t.AddMinutes(i) });
            if (specs[i].Archive)
            {
                await s.ArchiveSessionAsync();
            }
        }
        var aliceActive = await Backend.ListSessionsAsync("alice", SessionStatus.Active);
        Assert.Equal(["us-a3", "us-a1"], aliceActive.Select(m => m.SessionId));
        var aliceArchived = await Backend.ListSessionsAsync("alice", SessionStatus.Archived);
        Assert.Equal(["us-a2", "us-a4"], aliceArchived.Select(m => m.SessionId).Order());
        Assert.All(aliceArchived, m => Assert.Equal("alice", m.UserId));
        Assert.All(aliceArchived, m => Assert.Equal(SessionStatus.Archived, m.Status));
        Assert.Equal(["us-b2"], (await Backend.ListSessionsAsync("bob", SessionStatus.Archived)).Select(m => m.SessionId));
        Assert.Empty(await Backend.ListSessionsAsync("carol", SessionStatus.Active));

        // Paging applies after both filters.
        Assert.Equal(["us-a1"], (await Backend.ListSessionsAsync("alice", SessionStatus.Active, limit: 1, offset: 1)).Select(m => m.SessionId));
        Assert.Single(await Backend.ListSessionsAsync("alice", SessionStatus.Archived, limit: 1));
        Assert.Empty(await Backend.ListSessionsAsync("alice", SessionStatus.Archived, limit: 5, offset: 2));
    }

    [Fact]
    public async Task GetMessages_BySinceAndRolesTogether()
    {
        var s = await NewSessionAsync();
        var t0 = new DateTimeOffset(2026, 4, 2, 8, 0, 0, TimeSpan.Zero);
        var roles = new[] { MessageRole.System, MessageRole.User, MessageRole.Assistant, MessageRole.User, MessageRole.Assistant, MessageRole.User, MessageRole.Assistant };
        for (var i = 0; i < roles.Length; i++)
        {
            await s.AddMessageAsync(new Message(roles[i], $"m{i}") { Timestamp = t0.AddMinutes(i), TokenCount = 5 });
        }
        Assert.Equal(["m3", "m5"], (await s.GetMessagesAsync(since: t0.AddMinutes(2), roles: [MessageRole.User])).Select(m => m.Content));
        Assert.Equal(["m3", "m4", "m5", "m6"], (await s.GetMessagesAsync(since: t0.AddMinutes(3), roles: [MessageRole.User, MessageRole.Assistant])).Select(m => m.Content));
        Assert.Equal(["m5", "m6"], (await s.GetMessagesAsync(limit: 2, since: t0.AddMinutes(1), roles: [MessageRole.User, MessageRole.Assistant])).Select(m => m.Content));
        Assert.Empty(await s.GetMessagesAsync(since: t0.AddMinutes(1), roles: [MessageRole.System]));
        Assert.Equal(["m0"], (await s.GetMessagesAsync(since: t0, roles: [MessageRole.System])).Select(m => m.Content));
        var streamed = new List<string>();
        await foreach (var m in s.StreamMessagesAsync(since: t0.AddMinutes(4), roles: [MessageRole.Assistant]))
        {
            streamed.Add(m.Content);
        }
        Assert.Equal(["m4", "m6"], streamed);
    }

    [Fact]
    public async Task Manager_FreshOverAnUnconnectedBackend_ReportsHealthy()
    {
        await Backend.DisconnectAsync();
        var manager = CreateManager();
        var health = await manager.Backend.HealthCheckAsync();
        Assert.Equal(HealthStatus.Healthy, health.Status);
        Assert.True(health.Connected);
        Assert.True(manager.Backend.IsConnected);
        Assert.NotNull(await manager.GetOrCreateSessionAsync("after-health"));
    }

    [Fact]
    public async Task Manager_GetOrCreate_OnThisBackend()
    {
        var manager = CreateManager();
        var a = await manager.GetOrCreateSessionAsync("alice");
        var again = await manager.GetOrCreateSessionAsync("alice");
        Assert.Equal(a.SessionId, again.SessionId);
        var bob = await manager.GetOrCreateSessionAsync("bob");
        Assert.NotEqual(a.SessionId, bob.SessionId);

        var byId = await manager.GetOrCreateSessionAsync("alice", "mgr-s1", m => m.MaxTokens = 500);
        Assert.Equal(500, byId.Metadata.MaxTokens);
        await byId.AddMessageAsync(Msg(MessageRole.User, "mine"));
        var found = await manager.GetOrCreateSessionAsync("alice", "mgr-s1", m => m.MaxTokens = 900);
        Assert.Equal(500, found.Metadata.MaxTokens);
        Assert.Equal("mine", Assert.Single(await found.GetMessagesAsync()).Content);
        await Assert.ThrowsAsync<SessionAccessDeniedException>(() => manager.GetOrCreateSessionAsync("mallory", "mgr-s1"));

        await a.ArchiveSessionAsync();
        var fresh = await manager.GetOrCreateSessionAsync("alice");
        Assert.NotEqual(a.SessionId, fresh.SessionId);
        Assert.Equal(SessionStatus.Active, fresh.Metadata.Status);
    }

    [Fact]
    public async Task Manager_CleanupAll_AndSystemStats_OnThisBackend()
    {
        var manager = CreateManager();
        var old = DateTimeOffset.UtcNow.AddDays(-40);
        await manager.CreateSessionAsync("u", "mgr-old", m => m.CreatedAt = m.UpdatedAt = old);
        var keep = await manager.CreateSessionAsync("u", "mgr-keep");
        await keep.AddMessagesAsync([Msg(MessageRole.User, "1"), Msg(MessageRole.Assistant, "2"), Msg(MessageRole.User, "3")]);
        var other = await manager.CreateSessionAsync("v", "mgr-other");
        await other.AddMessageAsync(Msg(MessageRole.User, "4"));
        await other.ArchiveSessionAsync();

        Assert.Equal(1, await manager.CleanupAllSessionsAsync(30));
        Assert.Null(await manager.GetSessionAsync("mgr-old"));
        Assert.Equal(0, await manager.CleanupAllSessionsAsync(30));

        var stats = await manager.GetSystemStatsAsync();
        Assert.Equal(2, stats.Backend.TotalSessions);
        Assert.Equal(1, stats.ActiveSessions);
        Assert.Equal(1, stats.ArchivedSessions);
        Assert.Equal(4, stats.Backend.TotalMessages);
        Assert.Equal(2.0, stats.AvgMessagesPerSession);
        Assert.Equal(3, stats.SessionsOpened);
        Assert.Equal(Backend.Name, stats.ToDictionary()["backend"]);
    }

    [Fact]
    public async Task MemorySessionContext_OnThisBackend()
    {
        var manager = CreateManager();
        string id;
        await using (var session = await MemorySessionContext.OpenAsync(userId: "ctx-user", configure: m => m.MaxMessages = 50, manager: manager))
        {
            id = session.SessionId;
            Assert.Equal("ctx-user", session.Metadata.UserId);
            Assert.Equal(50, session.Metadata.MaxMessages);
            await session.AddMessageAsync(Msg(MessageRole.User, "kept"));
        }
        // The manager was passed in: the context leaves it (and the backend) running.
        Assert.True(Backend.IsConnected);
        await using (var again = await MemorySessionContext.OpenAsync(userId: "ctx-user", manager: manager))
        {
            Assert.Equal(id, again.SessionId);
            Assert.Equal("kept", Assert.Single(await again.GetMessagesAsync()).Content);
        }
        await using (var byId = await MemorySessionContext.OpenAsync(sessionId: "ctx-anon", manager: manager))
        {
            Assert.Null(byId.Metadata.UserId);
        }
        Assert.NotNull(await Backend.GetSessionAsync("ctx-anon"));
        await Assert.ThrowsAsync<SessionAccessDeniedException>(() => MemorySessionContext.OpenAsync(userId: "intruder", sessionId: id, manager: manager));
    }
}
