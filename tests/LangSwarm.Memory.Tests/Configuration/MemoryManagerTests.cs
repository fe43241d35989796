using System.Text.Json.Nodes;
using Xunit;

namespace LangSwarm.Memory.Tests.Configuration;

public sealed class MemoryManagerTests
{
    private static MemoryManager NewManager() => new(new InMemoryBackend());

    [Fact]
    public async Task GetOrCreate_for_a_user_returns_the_same_session()
    {
        await using var manager = NewManager();
        var a = await manager.GetOrCreateSessionAsync("alice");
        var b = await manager.GetOrCreateSessionAsync("alice");
        var other = await manager.GetOrCreateSessionAsync("bob");
        Assert.Equal(a.SessionId, b.SessionId);
        Assert.NotEqual(a.SessionId, other.SessionId);
        Assert.Equal("alice", b.Metadata.UserId);
    }

    [Fact]
    public async Task GetOrCreate_for_a_user_skips_archived_sessions()
    {
        await using var manager = NewManager();
        var a = await manager.GetOrCreateSessionAsync("alice");
        await a.ArchiveSessionAsync();
        var b = await manager.GetOrCreateSessionAsync("alice");
        Assert.NotEqual(a.SessionId, b.SessionId);
        Assert.Equal(SessionStatus.Active, b.Metadata.Status);
    }

    [Fact]
    public async Task GetOrCreate_with_an_id_creates_then_finds_it()
    {
        await using var manager = NewManager();
        var a = await manager.GetOrCreateSessionAsync("alice", "s1", m => m.MaxTokens = 500);
        Assert.Equal("s1", a.SessionId);
        Assert.Equal(500, a.Metadata.MaxTokens);
        var b = await manager.GetOrCreateSessionAsync("alice", "s1", m => m.MaxTokens = 900);
        Assert.Equal(500, b.Metadata.MaxTokens);
    }

    [Fact]
    public async Task GetOrCreate_of_another_users_session_is_denied_and_changes_nothing()
    {
        await using var manager = NewManager();
        var s = await manager.CreateSessionAsync("alice", "s1");
        await s.AddMessageAsync(new Message(MessageRole.User, "private"));
        var before = (await manager.GetSessionAsync("s1"))!.Metadata;

        var ex = await Assert.ThrowsAsync<SessionAccessDeniedException>(() => manager.GetOrCreateSessionAsync("mallory", "s1", m => m.UserId = "mallory"));
        Assert.Equal("s1", ex.SessionId);

        var after = (await manager.GetSessionAsync("s1"))!;
        Assert.Equal("alice", after.Metadata.UserId);
        Assert.Equal(before.UpdatedAt, after.Metadata.UpdatedAt);
        Assert.Equal("private", Assert.Single(await after.GetMessagesAsync()).Content);

        var anonymous = await manager.CreateSessionAsync(null, "anon");
        await Assert.ThrowsAsync<SessionAccessDeniedException>(() => manager.GetOrCreateSessionAsync("alice", "anon"));
    }

    [Fact]
    public async Task Concurrent_GetOrCreate_of_one_id_yields_one_session()
    {
        await using var manager = NewManager();
        using var start = new ManualResetEventSlim();
        var tasks = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            start.Wait();
            return await manager.GetOrCreateSessionAsync("alice", "shared");
        })).ToList();
        start.Set();
        var sessions = await Task.WhenAll(tasks);

        Assert.All(sessions, s => Assert.Equal("shared", s.SessionId));
        await Task.WhenAll(sessions.Select((s, i) => s.AddMessageAsync(new Message(MessageRole.User, $"m{i}"))));
        var listed = await manager.Backend.ListSessionsAsync("alice");
        Assert.Equal("shared", Assert.Single(listed).SessionId);
        Assert.Equal(8, (await sessions[0].GetMessagesAsync()).Count);
    }

    /// <summary>
    /// The real in-memory backend behind a little latency on listing, as a remote store has: it widens the
    /// window between "find the user's session" and "create one" that concurrent callers race through.
    /// </summary>
    private sealed class SlowListingBackend(InMemoryBackend inner) : IMemoryBackend
    {
        public string Name => inner.Name;

        public bool IsConnected => inner.IsConnected;

        public Task ConnectAsync(CancellationToken cancellationToken = default) => inner.ConnectAsync(cancellationToken);

        public Task DisconnectAsync(CancellationToken cancellationToken = default) => inner.DisconnectAsync(cancellationToken);

        public Task<HealthReport> HealthCheckAsync(CancellationToken cancellationToken = default) => inner.HealthCheckAsync(cancellationToken);

        public Task<IMemorySession> CreateSessionAsync(SessionMetadata metadata, CancellationToken cancellationToken = default) => inner.CreateSessionAsync(metadata, cancellationToken);

        public Task<IMemorySession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default) => inner.GetSessionAsync(sessionId, cancellationToken);

        public async Task<IReadOnlyList<SessionMetadata>> ListSessionsAsync(string? userId = null, SessionStatus? status = null, int limit = 100, int offset = 0, CancellationToken cancellationToken = default)
        {
            var page = await inner.ListSessionsAsync(userId, status, limit, offset, cancellationToken);
            await Task.Delay(5, cancellationToken);
            return page;
        }

        public Task<bool> DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default) => inner.DeleteSessionAsync(sessionId, cancellationToken);

        public Task<IMemorySession?> GetSessionAsync(string sessionId, string userId, CancellationToken cancellationToken = default) => inner.GetSessionAsync(sessionId, userId, cancellationToken);

        public Task<bool> DeleteSessionAsync(string sessionId, string userId, CancellationToken cancellationToken = default) => inner.DeleteSessionAsync(sessionId, userId, cancellationToken);

        public Task<bool> ArchiveSessionAsync(string sessionId, string userId, CancellationToken cancellationToken = default) => inner.ArchiveSessionAsync(sessionId, userId, cancellationToken);

        public Task<int> CleanupExpiredSessionsAsync(int maxAgeDays = 30, CancellationToken cancellationToken = default) => inner.CleanupExpiredSessionsAsync(maxAgeDays, cancellationToken);

        public Task<UsageStats> GetUsageStatsAsync(CancellationToken cancellationToken = default) => inner.GetUsageStatsAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    [Fact]
    public async Task Concurrent_GetOrCreate_for_a_user_yields_one_session()
    {
        await using var manager = new MemoryManager(new SlowListingBackend(new InMemoryBackend()));
        var sessions = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => manager.GetOrCreateSessionAsync("alice")));

        Assert.Single(sessions.Select(s => s.SessionId).Distinct());
        Assert.Single(await manager.Backend.ListSessionsAsync("alice"));
        // Other users are not held up by alice's lock.
        Assert.NotEqual(sessions[0].SessionId, (await manager.GetOrCreateSessionAsync("bob")).SessionId);
    }

    [Fact]
    public async Task CreateSession_with_seed_keywords()
    {
        await using var manager = NewManager();
        var s = await manager.CreateSessionAsync("alice", "s1", new Dictionary<string, object?>
        {
            ["max_messages"] = 50,
            ["MaxTokens"] = "2000",
            ["summary_strategy"] = "rolling",
            ["custom_metadata"] = new Dictionary<string, object?> { ["project"] = "apollo", ["priority"] = 2 },
            ["topic"] = "travel",
            ["tags"] = new[] { "a", "b" },
        });

        var m = s.Metadata;
        Assert.Equal(50, m.MaxMessages);
        Assert.Equal(2000, m.MaxTokens);
        Assert.Equal(SummaryStrategy.Rolling, m.SummaryStrategy);
        Assert.Equal("apollo", m.Metadata["project"]!.GetValue<string>());
        Assert.Equal(2, m.Metadata["priority"]!.GetValue<int>());
        Assert.Equal("travel", m.Metadata["topic"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""["a","b"]"""), m.Metadata["tags"]));
        Assert.False(m.Metadata.ContainsKey("custom_metadata"));

        var stored = (await manager.GetSessionAsync("s1"))!.Metadata;
        Assert.Equal(50, stored.MaxMessages);
        Assert.Equal("apollo", stored.Metadata["project"]!.GetValue<string>());
    }

    [Fact]
    public async Task CreateSession_with_bad_keywords_fails()
    {
        await using var manager = NewManager();
        await Assert.ThrowsAsync<ArgumentException>(() => manager.CreateSessionAsync("a", null, new Dictionary<string, object?> { ["max_messages"] = "many" }));
        await Assert.ThrowsAsync<ArgumentException>(() => manager.CreateSessionAsync("a", null, new Dictionary<string, object?> { ["max_messages"] = 0 }));
        await Assert.ThrowsAsync<ArgumentException>(() => manager.CreateSessionAsync("a", null, new Dictionary<string, object?> { ["summary_strategy"] = "weekly" }));
        Assert.Empty(await manager.Backend.ListSessionsAsync());
    }

    [Fact]
    public async Task CreateSession_twice_with_one_id_fails()
    {
        await using var manager = NewManager();
        await manager.CreateSessionAsync("a", "dup");
        await Assert.ThrowsAsync<SessionAlreadyExistsException>(() => manager.CreateSessionAsync("a", "dup"));
    }

    [Fact]
    public async Task System_stats_figures_and_dictionary()
    {
        await using var manager = NewManager();
        var s1 = await manager.CreateSessionAsync("a", "s1");
        var s2 = await manager.CreateSessionAsync("a", "s2");
        var s3 = await manager.CreateSessionAsync("b", "s3");
        await s1.AddMessagesAsync([new Message(MessageRole.User, "1"), new Message(MessageRole.Assistant, "2"), new Message(MessageRole.User, "3")]);
        await s2.AddMessageAsync(new Message(MessageRole.User, "4"));
        await s3.AddMessageAsync(new Message(MessageRole.User, "5"));
        await s3.ArchiveSessionAsync();
        Assert.NotNull(await manager.GetSessionAsync("s1"));

        var stats = await manager.GetSystemStatsAsync();

        Assert.Equal(3, stats.Backend.TotalSessions);
        Assert.Equal(2, stats.ActiveSessions);
        Assert.Equal(1, stats.ArchivedSessions);
        Assert.Equal(5, stats.Backend.TotalMessages);
        Assert.Equal(1.67, stats.AvgMessagesPerSession);
        Assert.Equal(4, stats.SessionsOpened);
        Assert.True(stats.MemoryUsageMb > 0);
        Assert.True(stats.Uptime > TimeSpan.Zero);

        var d = stats.ToDictionary();
        Assert.Equal(2L, d["active_sessions"]);
        Assert.Equal(1L, d["archived_sessions"]);
        Assert.Equal(1.67, d["avg_messages_per_session"]);
        Assert.Equal(stats.MemoryUsageMb, d["memory_usage_mb"]);
        Assert.Equal(3L, d["total_sessions"]);
        Assert.Equal(5L, d["total_messages"]);
        Assert.Equal("in_memory", d["backend"]);
        Assert.Contains("uptime_seconds", d.Keys);
        Assert.Contains("sessions_opened", d.Keys);
    }

    [Fact]
    public async Task Stats_of_an_empty_store()
    {
        await using var manager = NewManager();
        var stats = await manager.GetSystemStatsAsync();
        Assert.Equal(0, stats.AvgMessagesPerSession);
        Assert.Equal(0, stats.ActiveSessions);
    }

    [Fact]
    public async Task Cleanup_removes_idle_sessions()
    {
        var backend = new InMemoryBackend();
        await using var manager = new MemoryManager(backend);
        await manager.CreateSessionAsync("a", "old");
        backend.Clock = new OffsetClock(TimeSpan.FromDays(40));
        await manager.CreateSessionAsync("a", "new", m => m.CreatedAt = m.UpdatedAt = backend.Clock.GetUtcNow());
        Assert.Equal(1, await manager.CleanupAllSessionsAsync(30));
        Assert.Null(await manager.GetSessionAsync("old"));
        Assert.NotNull(await manager.GetSessionAsync("new"));
    }

    private sealed class OffsetClock(TimeSpan offset) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + offset;
    }

    [Fact]
    public async Task Shutdown_then_use_is_unavailable()
    {
        var manager = NewManager();
        var s = await manager.CreateSessionAsync("a");
        await manager.ShutdownAsync();
        await manager.ShutdownAsync();
        await manager.DisposeAsync();

        Assert.False(manager.Backend.IsConnected);
        await Assert.ThrowsAsync<BackendUnavailableException>(() => manager.CreateSessionAsync("a"));
        await Assert.ThrowsAsync<BackendUnavailableException>(() => manager.GetSessionAsync(s.SessionId));
        await Assert.ThrowsAsync<BackendUnavailableException>(() => manager.GetOrCreateSessionAsync("a"));
        await Assert.ThrowsAsync<BackendUnavailableException>(() => manager.GetSystemStatsAsync());
        await Assert.ThrowsAsync<BackendUnavailableException>(() => manager.CleanupAllSessionsAsync());
        await Assert.ThrowsAsync<BackendUnavailableException>(() => s.AddMessageAsync(new Message(MessageRole.User, "late")));
    }

    [Fact]
    public async Task Invalid_user_id_is_rejected()
    {
        await using var manager = NewManager();
        await Assert.ThrowsAsync<ArgumentException>(() => manager.GetOrCreateSessionAsync(""));
        await Assert.ThrowsAsync<ArgumentException>(() => manager.GetOrCreateSessionAsync("a\u0001b"));
    }
}
