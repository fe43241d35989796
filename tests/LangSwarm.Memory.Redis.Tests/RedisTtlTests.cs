using Xunit;

namespace LangSwarm.Memory.Redis.Tests;

/// <summary>TTL expiry, renewal on activity, lazy index clean-up and TTL statistics.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisTtlTests(RedisServerFixture redis) : IAsyncLifetime
{
    private readonly string _prefix = RedisServerFixture.NewPrefix();
    private readonly List<RedisBackend> _backends = [];

    [Fact]
    public async Task ExpiredSession_Vanishes_FromReadsAndIndexes()
    {
        var b = await OpenAsync(ttl: 1);
        var s = await b.CreateSessionAsync(new SessionMetadata("short-lived", "ttl-user"));
        await s.AddMessageAsync(new Message(MessageRole.User, "soon gone") { TokenCount = 3 });
        await s.CreateSummaryAsync();
        foreach (var key in new[] { "meta", "msgs", "info", "sums" })
        {
            var ttl = await redis.Db.KeyTimeToLiveAsync($"{_prefix}:s:{{short-lived}}:{key}");
            Assert.True(ttl is { TotalMilliseconds: > 0 and <= 1000 }, $"{key} has TTL {ttl}");
        }

        var deadline = DateTime.UtcNow.AddSeconds(6);
        while (await b.GetSessionAsync("short-lived") is not null)
        {
            Assert.True(DateTime.UtcNow < deadline, "session did not expire");
            await Task.Delay(100);
        }
        Assert.Empty(await b.ListSessionsAsync());
        Assert.Empty(await b.ListSessionsAsync(userId: "ttl-user"));
        // Listing met the stale index entries and removed them: nothing of the session is left.
        Assert.Empty(await redis.KeysAsync(_prefix));
        Assert.Equal(0, (await b.GetUsageStatsAsync()).TotalSessions);
    }

    [Fact]
    public async Task Activity_RenewsTheTtl_OfEveryKey()
    {
        var b = await OpenAsync(ttl: 3);
        var s = await b.CreateSessionAsync(new SessionMetadata("renewed", "u"));
        await s.AddMessageAsync(new Message(MessageRole.User, "first") { TokenCount = 1 });
        await Task.Delay(1500);
        var before = await redis.Db.KeyTimeToLiveAsync($"{_prefix}:s:{{renewed}}:meta");
        Assert.True(before!.Value.TotalMilliseconds < 2000, $"TTL before activity {before}");

        await s.AddMessageAsync(new Message(MessageRole.User, "second") { TokenCount = 1 });
        foreach (var key in new[] { "meta", "msgs", "info" })
        {
            var ttl = await redis.Db.KeyTimeToLiveAsync($"{_prefix}:s:{{renewed}}:{key}");
            Assert.True(ttl!.Value.TotalMilliseconds > 2500, $"{key} TTL after add {ttl}");
        }

        await Task.Delay(1500);
        await s.UpdateMetadataAsync(new Dictionary<string, object?> { ["topic"] = "kept alive" });
        var afterUpdate = await redis.Db.KeyTimeToLiveAsync($"{_prefix}:s:{{renewed}}:msgs");
        Assert.True(afterUpdate!.Value.TotalMilliseconds > 2500, $"msgs TTL after metadata update {afterUpdate}");

        // 3 s after creation the session is still there, because it was used.
        await Task.Delay(500);
        var again = await b.GetSessionAsync("renewed");
        Assert.NotNull(again);
        Assert.Equal(2, (await again!.GetMessagesAsync()).Count);
    }

    [Fact]
    public async Task TtlStats_CountExpiringAndPersistentSessions()
    {
        var halfHour = await OpenAsync(ttl: 1800);
        var twoHours = await OpenAsync(ttl: 7200);
        var forever = await OpenAsync(ttl: null);
        await halfHour.CreateSessionAsync(new SessionMetadata("h1"));
        await halfHour.CreateSessionAsync(new SessionMetadata("h2"));
        await twoHours.CreateSessionAsync(new SessionMetadata("d1"));
        await forever.CreateSessionAsync(new SessionMetadata("p1"));

        var stats = await forever.GetTtlStatsAsync();
        Assert.Equal(4, stats.TotalSessions);
        Assert.Equal(2, stats.Expiring1h);
        Assert.Equal(3, stats.Expiring24h);
        Assert.Equal(1, stats.WithoutTtl);
        var dict = stats.ToDictionary();
        Assert.Equal(2L, dict["expiring_1h"]);
        Assert.Equal(3L, dict["expiring_24h"]);
        Assert.Equal(1L, dict["no_ttl"]);
        Assert.Equal(1800L, (await halfHour.GetTtlStatsAsync()).TtlSeconds);
    }

    [Fact]
    public async Task ZeroTtl_MeansNoExpiry()
    {
        var b = await OpenAsync(ttl: 0);
        await b.CreateSessionAsync(new SessionMetadata("no-expiry"));
        Assert.Null(await redis.Db.KeyTimeToLiveAsync($"{_prefix}:s:{{no-expiry}}:meta"));
        Assert.Equal(1, (await b.GetTtlStatsAsync()).WithoutTtl);
    }

    /// <inheritdoc />
    public Task InitializeAsync() => Task.CompletedTask;

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        foreach (var b in _backends)
        {
            await b.DisposeAsync();
        }
        await redis.DeletePrefixAsync(_prefix);
    }

    private async Task<RedisBackend> OpenAsync(int? ttl)
    {
        var b = redis.CreateBackend(_prefix, ttl);
        _backends.Add(b);
        await b.ConnectAsync();
        return b;
    }
}
