using Xunit;

namespace LangSwarm.Memory.Redis.Tests;

/// <summary>Key layout, namespacing, listing order, lazy index repair and storage figures.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisLayoutTests(RedisServerFixture redis) : IAsyncLifetime
{
    private readonly string _prefix = RedisServerFixture.NewPrefix();
    private readonly string _otherPrefix = RedisServerFixture.NewPrefix();
    private readonly List<RedisBackend> _backends = [];

    [Fact]
    public void Escape_IsInjective_AndKeepsTheHashTagWhole()
    {
        var keys = new RedisKeys("p");
        Assert.Equal("p:s:{plain-id_1}:meta", (string)keys.Meta("plain-id_1")!);
        Assert.Equal("p:s:{a%3Ab}:msgs", (string)keys.Messages("a:b")!);
        Assert.Equal("p:s:{a%253Ab}:msgs", (string)keys.Messages("a%3Ab")!);
        Assert.Equal("p:s:{%7Bx%7D}:meta", (string)keys.Meta("{x}")!);
        string[] ids = ["a:b", "a%3Ab", "{", "}", "%7B", "x}y{z", "ünï 🌍", "a b", "a\tb"];
        var escaped = ids.Select(RedisKeys.Escape).ToList();
        Assert.Equal(ids.Length, escaped.Distinct(StringComparer.Ordinal).Count());
        Assert.All(escaped, e => Assert.DoesNotContain('}', e));
        Assert.All(escaped, e => Assert.DoesNotContain('{', e));
        Assert.All(escaped, e => Assert.DoesNotContain(':', e));
    }

    [Fact]
    public async Task TrickyIds_DoNotCollide()
    {
        var b = await OpenAsync(_prefix);
        string[] ids = ["a:b", "a%3Ab", "x}y{z", "{t}", "s:{evil}:meta"];
        foreach (var id in ids)
        {
            var s = await b.CreateSessionAsync(new SessionMetadata(id, "u:1") { SummaryStrategy = SummaryStrategy.Manual });
            await s.AddMessageAsync(new Message(MessageRole.User, "content of " + id) { TokenCount = 2 });
        }
        foreach (var id in ids)
        {
            var s = await b.GetSessionAsync(id);
            Assert.Equal(["content of " + id], (await s!.GetMessagesAsync()).Select(m => m.Content));
        }
        Assert.Equal(ids.Order(StringComparer.Ordinal), (await b.ListSessionsAsync(userId: "u:1")).Select(m => m.SessionId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Namespaces_AreKeptApart()
    {
        var one = await OpenAsync(_prefix);
        var two = await OpenAsync(_otherPrefix);
        var a = await one.CreateSessionAsync(new SessionMetadata("shared-id", "alice"));
        await a.AddMessageAsync(new Message(MessageRole.User, "in one") { TokenCount = 1 });
        var b = await two.CreateSessionAsync(new SessionMetadata("shared-id", "bob"));
        await b.AddMessageAsync(new Message(MessageRole.User, "in two") { TokenCount = 1 });
        await two.CreateSessionAsync(new SessionMetadata("only-two", "bob"));

        Assert.Equal(["shared-id"], (await one.ListSessionsAsync()).Select(m => m.SessionId));
        Assert.Equal(2, (await two.ListSessionsAsync()).Count);
        Assert.Equal("alice", (await one.GetSessionAsync("shared-id"))!.Metadata.UserId);
        Assert.Equal(["in two"], (await (await two.GetSessionAsync("shared-id"))!.GetMessagesAsync()).Select(m => m.Content));
        Assert.Equal(1, (await one.GetUsageStatsAsync()).TotalSessions);

        Assert.True(await two.DeleteSessionAsync("shared-id"));
        Assert.NotNull(await one.GetSessionAsync("shared-id"));
        Assert.All(await redis.KeysAsync(_prefix), k => Assert.StartsWith(_prefix + ":", k, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Listing_MatchesTheReferenceOrder_WithSubMillisecondTies()
    {
        var b = await OpenAsync(_prefix);
        var reference = new InMemoryBackend();
        await reference.ConnectAsync();
        var t = new DateTimeOffset(2026, 2, 3, 4, 5, 6, TimeSpan.Zero);
        var rnd = new Random(42);
        for (var i = 0; i < 120; i++)
        {
            // Many sessions share a millisecond (the index score) and some share the exact tick.
            var updated = t.AddTicks(rnd.Next(0, 4) * 10_000 + rnd.Next(0, 3) * 7);
            var id = $"ord-{rnd.Next(0, 1_000_000):D6}-{i}";
            var user = i % 3 == 0 ? "carol" : null;
            var status = i % 4 == 0 ? SessionStatus.Archived : SessionStatus.Active;
            foreach (IMemoryBackend target in new IMemoryBackend[] { b, reference })
            {
                await target.CreateSessionAsync(new SessionMetadata(id, user) { CreatedAt = t, UpdatedAt = updated, Status = status });
            }
        }
        foreach (var (user, status) in new (string?, SessionStatus?)[] { (null, null), ("carol", null), (null, SessionStatus.Archived), ("carol", SessionStatus.Active) })
        {
            foreach (var (limit, offset) in new[] { (100, 0), (7, 0), (7, 13), (30, 90), (1, 119), (50, 200) })
            {
                var expected = (await reference.ListSessionsAsync(user, status, limit, offset)).Select(m => m.SessionId);
                var actual = (await b.ListSessionsAsync(user, status, limit, offset)).Select(m => m.SessionId);
                Assert.Equal(expected, actual);
            }
        }
    }

    [Fact]
    public async Task StaleIndexEntries_AreSkippedAndRemoved()
    {
        var b = await OpenAsync(_prefix);
        await b.CreateSessionAsync(new SessionMetadata("alive", "dora"));
        await b.CreateSessionAsync(new SessionMetadata("vanished", "dora"));
        // What an expiry does: the session's keys disappear, the global index entries stay.
        await redis.Db.KeyDeleteAsync([$"{_prefix}:s:{{vanished}}:meta"]);

        Assert.Equal(["alive"], (await b.ListSessionsAsync(userId: "dora")).Select(m => m.SessionId));
        Assert.Equal(["alive"], (await b.ListSessionsAsync()).Select(m => m.SessionId));
        var keys = new RedisKeys(_prefix);
        var shard = keys.ShardKeys("vanished");
        Assert.Null(await redis.Db.SortedSetScoreAsync(shard[0], "vanished"));
        Assert.Null(await redis.Db.SortedSetScoreAsync(shard[1], "vanished"));
        Assert.False(await redis.Db.HashExistsAsync(shard[4], "vanished"));
        Assert.Equal(1, await redis.Db.SortedSetLengthAsync(keys.UserIndex("dora")));

        // A vanished id can be created again, with a different owner.
        await b.CreateSessionAsync(new SessionMetadata("vanished", "erin"));
        Assert.Equal(["vanished"], (await b.ListSessionsAsync(userId: "erin")).Select(m => m.SessionId));
    }

    [Fact]
    public async Task ChangingTheUser_IsRefused_AndTheUserIndexStays()
    {
        var b = await OpenAsync(_prefix);
        var s = await b.CreateSessionAsync(new SessionMetadata("moving", "from-user"));
        await Assert.ThrowsAsync<ArgumentException>(() => s.UpdateMetadataAsync(new Dictionary<string, object?> { ["user_id"] = "to-user" }));
        Assert.Equal(["moving"], (await b.ListSessionsAsync(userId: "from-user")).Select(m => m.SessionId));
        Assert.Empty(await b.ListSessionsAsync(userId: "to-user"));
        Assert.True(await b.DeleteSessionAsync("moving"));
        Assert.Empty(await redis.KeysAsync(_prefix));
    }

    [Fact]
    public async Task LostIndexEntries_AreRestoredByTheRepairPass()
    {
        var b = await OpenAsync(_prefix);
        for (var i = 0; i < 5; i++)
        {
            var s = await b.CreateSessionAsync(new SessionMetadata($"lost-{i}", i % 2 == 0 ? "even" : null));
            if (i == 4)
            {
                await s.ArchiveSessionAsync();
            }
        }
        var keys = new RedisKeys(_prefix);
        await redis.Db.KeyDeleteAsync([.. keys.AllShardKeys(), keys.UserIndex("even"), keys.UserIndex(null)]);
        Assert.Empty(await b.ListSessionsAsync());

        Assert.Equal(5, await b.RepairIndexesAsync());

        Assert.Equal(5, (await b.ListSessionsAsync()).Count);
        Assert.Equal(["lost-0", "lost-2", "lost-4"], (await b.ListSessionsAsync(userId: "even")).Select(m => m.SessionId).Order());
        Assert.Equal(["lost-4"], (await b.ListSessionsAsync(status: SessionStatus.Archived)).Select(m => m.SessionId));
    }

    [Fact]
    public async Task EntriesInTheWrongUserIndex_AreDroppedWhenListed()
    {
        var b = await OpenAsync(_prefix);
        await b.CreateSessionAsync(new SessionMetadata("mine", "owner"));
        var keys = new RedisKeys(_prefix);
        await redis.Db.SortedSetAddAsync(keys.UserIndex("intruder"), "mine", 1);
        Assert.Empty(await b.ListSessionsAsync(userId: "intruder"));
        Assert.Equal(0, await redis.Db.SortedSetLengthAsync(keys.UserIndex("intruder")));
        Assert.Single(await b.ListSessionsAsync(userId: "owner"));
    }

    [Fact]
    public async Task EntriesInTheWrongStatusIndex_AreDroppedWhenListed()
    {
        var b = await OpenAsync(_prefix);
        var s = await b.CreateSessionAsync(new SessionMetadata("shelved", "owner"));
        await s.ArchiveSessionAsync();
        var shard = new RedisKeys(_prefix).ShardKeys("shelved");
        await redis.Db.SortedSetAddAsync(shard[1], "shelved", 1);
        Assert.Empty(await b.ListSessionsAsync(status: SessionStatus.Active));
        Assert.Null(await redis.Db.SortedSetScoreAsync(shard[1], "shelved"));
        Assert.Single(await b.ListSessionsAsync(status: SessionStatus.Archived));
    }

    [Fact]
    public async Task UsageStats_MeasureStorage_WithMemoryUsage()
    {
        var b = await OpenAsync(_prefix);
        var s = await b.CreateSessionAsync(new SessionMetadata("sized") { SummaryStrategy = SummaryStrategy.Manual });
        await s.AddMessageAsync(new Message(MessageRole.User, new string('z', 20_000)) { TokenCount = 5 });
        await s.CreateSummaryAsync();
        var stats = await b.GetUsageStatsAsync();
        Assert.Equal("memory_usage", stats.Extra["storage_bytes_source"]);
        Assert.True(stats.StorageBytes > 20_000, $"storage {stats.StorageBytes}");
        Assert.Equal(1, stats.TotalSummaries);
        Assert.Equal("redis", stats.Backend);
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
        await redis.DeletePrefixAsync(_otherPrefix);
    }

    private async Task<RedisBackend> OpenAsync(string prefix)
    {
        var b = redis.CreateBackend(prefix);
        _backends.Add(b);
        await b.ConnectAsync();
        return b;
    }
}
