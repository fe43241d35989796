using StackExchange.Redis;
using Xunit;

namespace LangSwarm.Memory.Redis.Tests;

/// <summary>
/// What the Redis store adds to the contract: counters computed inside the write scripts (two writers or a stale
/// handle never make them wrong), the generation token, the stored format (and the earlier one, still read and
/// converted on the next write), and TTL renewal.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class RedisSessionStoreTests(RedisServerFixture redis) : IAsyncLifetime
{
    private readonly string _prefix = RedisServerFixture.NewPrefix();
    private readonly List<RedisSessionStore> _stores = [];

    [Fact]
    public async Task TwoWriters_OnStaleState_GetDistinctSequences_AndRightCounters()
    {
        var one = await OpenAsync();
        var two = await OpenAsync();
        var a = (await one.CreateSessionAsync(Meta("shared"), CancellationToken.None))!;
        var b = (await two.OpenSessionAsync("shared", CancellationToken.None))!;
        var seen = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            // Each handle's cached state is stale after the other wrote: the script counts from what is stored.
            var ma = Msg("a" + i, 2);
            var mb = Msg("b" + i, 3);
            await a.AppendAsync([ma], DateTimeOffset.UtcNow, CancellationToken.None);
            var s = await b.AppendAsync([mb], DateTimeOffset.UtcNow, CancellationToken.None);
            seen.Add(ma.Sequence);
            seen.Add(mb.Sequence);
            Assert.Equal(((2 * i) + 2L, (2 * i) + 2, 5L * (i + 1)), (s.LastSequence, s.LiveMessages, s.LiveTokens));
        }
        Assert.Equal(Enumerable.Range(1, 10).Select(x => (long)x), seen);

        // Both evict the same message: it is subtracted once.
        await a.EvictAsync([1L], CancellationToken.None);
        var after = await b.EvictAsync([1L, 2L], CancellationToken.None);
        Assert.Equal((10L, 8, 20L), (after.LastSequence, after.LiveMessages, after.LiveTokens));
        var fresh = await a.RefreshAsync(CancellationToken.None);
        Assert.Equal(after, fresh with { Metadata = after.Metadata });
        Assert.Equal(8, (await a.ReadMessageInfosAsync(CancellationToken.None)).Count);
    }

    [Fact]
    public async Task OldHandle_OfARecreatedSession_WritesAndReadsNothing()
    {
        var store = await OpenAsync();
        var old = (await store.CreateSessionAsync(Meta("again"), CancellationToken.None))!;
        await old.AppendAsync([Msg("first life", 1)], DateTimeOffset.UtcNow, CancellationToken.None);
        Assert.True(await store.RemoveSessionAsync("again", CancellationToken.None));
        var fresh = (await store.CreateSessionAsync(Meta("again"), CancellationToken.None))!;

        var batch = new[] { Msg("stale", 1) };
        await Assert.ThrowsAsync<SessionNotFoundException>(() => old.AppendAsync(batch, DateTimeOffset.UtcNow, CancellationToken.None));
        Assert.Equal(0, batch[0].Sequence);
        var summary = new ConversationSummary { SessionId = "again", SummaryText = "x", FirstSequence = 1, LastSequence = 1, MessageCount = 1 };
        await Assert.ThrowsAsync<SessionNotFoundException>(() => old.AddSummaryAsync(summary, CancellationToken.None));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => old.SaveAsync(old.State.Metadata.Clone(), 50, 0, CancellationToken.None));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => old.ReadMessageInfosAsync(CancellationToken.None));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => old.ReadSummariesAsync(CancellationToken.None));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => old.ReadNewestMessagesAsync(MessageQuery.All, 5, CancellationToken.None));
        await Assert.ThrowsAsync<SessionNotFoundException>(async () =>
        {
            await foreach (var m in old.ReadMessagesAsync(MessageQuery.All, CancellationToken.None))
            {
                Assert.Fail($"read {m.Content}");
            }
        });

        var s = await fresh.RefreshAsync(CancellationToken.None);
        Assert.Equal((0L, 0, 0L, 0L), (s.LastSequence, s.LiveMessages, s.LiveTokens, s.SummarizedThrough));
        Assert.Empty(await fresh.ReadSummariesAsync(CancellationToken.None));
        Assert.Empty(await fresh.ReadMessageInfosAsync(CancellationToken.None));
    }

    [Fact]
    public async Task StoredFormat_MessagesHashKeyedBySequence_FactsSortedSet()
    {
        var store = await OpenAsync();
        var h = (await store.CreateSessionAsync(Meta("format"), CancellationToken.None))!;
        var m = Msg("héllo \"quoted\"", 4);
        m.Metadata["k"] = 1;
        await h.AppendAsync([Msg("first", 1), m], DateTimeOffset.UtcNow, CancellationToken.None);
        Assert.Equal(2, m.Sequence);

        // The message JSON (without its sequence) is the hash field named by the sequence.
        Assert.Equal(RedisMapping.MessageToJson(m), (byte[])(await redis.Db.HashGetAsync($"{_prefix}:s:{{format}}:msgs", 2))!);
        Assert.Equal(2, await redis.Db.HashLengthAsync($"{_prefix}:s:{{format}}:msgs"));
        var info = await redis.Db.SortedSetRangeByScoreAsync($"{_prefix}:s:{{format}}:info", 2, 2);
        Assert.Equal(RedisMapping.InfoMember(m), (string)Assert.Single(info)!);
        var read = Assert.Single(await h.ReadNewestMessagesAsync(MessageQuery.All, 1, CancellationToken.None));
        Assert.Equal((2L, m.MessageId, m.Content, 4), (read.Sequence, read.MessageId, read.Content, read.TokenCount!.Value));
        var gen = await redis.Db.HashGetAsync($"{_prefix}:s:{{format}}:meta", "gen");
        Assert.Equal(16, ((string)gen!).Length);
    }

    [Fact]
    public async Task EarlierLayout_IsRead_ThenConvertedByTheNextWrite_Atomically()
    {
        // A session as earlier versions wrote it: no layout field, its messages a sorted set of JSON with the
        // sequence spliced in, scored by the sequence; a TTL on the keys.
        var store = await OpenAsync();
        var meta = Meta("earlier");
        var keys = new RedisSessionKeys(new RedisKeys(_prefix), "earlier");
        var stored = new[] { Msg("one", 1), Msg("two", 2), Msg("three", 3) };
        var fields = RedisMapping.MetadataFields(meta);
        fields.AddRange(["owner", RedisKeys.OwnerMarker(meta.UserId), "gen", "0123456789ABCDEF", "ver", 1, "ix", 0,
            "last_sequence", 3, "live_messages", 3, "live_tokens", 6, "summarized_through", 0]);
        var entries = new HashEntry[fields.Count / 2];
        for (var i = 0; i < entries.Length; i++)
        {
            entries[i] = new HashEntry(fields[2 * i], fields[(2 * i) + 1]);
        }
        await redis.Db.HashSetAsync(keys.Meta, entries);
        for (var i = 0; i < stored.Length; i++)
        {
            var m = stored[i];
            m.Sequence = i + 1;
            var json = RedisMapping.MessageToJson(m);
            var old = System.Text.Encoding.UTF8.GetBytes("{\"seq\":" + m.Sequence + ",").Concat(json[1..]).ToArray();
            await redis.Db.SortedSetAddAsync(keys.Messages, old, m.Sequence);
            await redis.Db.SortedSetAddAsync(keys.Infos, RedisMapping.InfoMember(m), m.Sequence);
        }
        await redis.Db.KeyExpireAsync(keys.Messages, TimeSpan.FromHours(1));

        var h = (await store.OpenSessionAsync("earlier", CancellationToken.None))!;
        Assert.Equal(["one", "two", "three"], (await ReadAllAsync(h)).Select(m => m.Content));
        Assert.Equal(["two", "three"], (await h.ReadNewestMessagesAsync(MessageQuery.All, 2, CancellationToken.None)).Select(m => m.Content));
        var roles = new MessageQuery { Roles = [MessageRole.User] };
        Assert.Equal([1L, 2L, 3L], (await h.ReadNewestMessagesAsync(roles, 10, CancellationToken.None)).Select(m => m.Sequence));
        Assert.Equal(RedisType.SortedSet, await redis.Db.KeyTypeAsync(keys.Messages));

        // The next add converts the messages (sequences, JSON and TTL kept) and appends after them.
        var four = Msg("four", 4);
        var st = await h.AppendAsync([four], DateTimeOffset.UtcNow, CancellationToken.None);
        Assert.Equal((4L, 4, 10L), (st.LastSequence, st.LiveMessages, st.LiveTokens));
        Assert.Equal(RedisType.Hash, await redis.Db.KeyTypeAsync(keys.Messages));
        Assert.Equal(4, await redis.Db.HashLengthAsync(keys.Messages));
        Assert.NotNull(await redis.Db.KeyTimeToLiveAsync(keys.Messages));
        Assert.Equal(RedisSessionScripts.HashLayout, (string?)await redis.Db.HashGetAsync(keys.Meta, "layout"));
        var all = await ReadAllAsync(h);
        Assert.Equal(["one", "two", "three", "four"], all.Select(m => m.Content));
        Assert.Equal([1L, 2L, 3L, 4L], all.Select(m => m.Sequence));
        Assert.Equal(stored[1].MessageId, all[1].MessageId);

        var after = await h.EvictAsync([1L, 2L], CancellationToken.None);
        Assert.Equal((4L, 2, 7L), (after.LastSequence, after.LiveMessages, after.LiveTokens));
        Assert.Equal(["three", "four"], (await ReadAllAsync(h)).Select(m => m.Content));
    }

    [Fact]
    public async Task EarlierLayout_IsConvertedByAnEviction_Too()
    {
        var store = await OpenAsync();
        var h = (await store.CreateSessionAsync(Meta("evict-first"), CancellationToken.None))!;
        await h.AppendAsync([Msg("a", 1), Msg("b", 2)], DateTimeOffset.UtcNow, CancellationToken.None);
        var keys = new RedisSessionKeys(new RedisKeys(_prefix), "evict-first");

        // Turn it back into the earlier layout.
        var values = await redis.Db.HashGetAllAsync(keys.Messages);
        await redis.Db.KeyDeleteAsync(keys.Messages);
        foreach (var v in values)
        {
            await redis.Db.SortedSetAddAsync(keys.Messages, v.Value, (long)v.Name);
        }
        await redis.Db.HashDeleteAsync(keys.Meta, "layout");

        var st = await h.EvictAsync([1L], CancellationToken.None);
        Assert.Equal((2L, 1, 2L), (st.LastSequence, st.LiveMessages, st.LiveTokens));
        Assert.Equal(RedisType.Hash, await redis.Db.KeyTypeAsync(keys.Messages));
        Assert.Equal(["b"], (await ReadAllAsync(h)).Select(m => m.Content));
    }

    [Fact]
    public async Task ScriptsTheServerLost_AreSentAgain()
    {
        // Writes and reads go by SHA1 (EVALSHA); a server that lost its script cache (restart, promoted replica)
        // answers NOSCRIPT, and the script's text is sent instead.
        var store = await OpenAsync();
        var h = (await store.CreateSessionAsync(Meta("flushed"), CancellationToken.None))!;
        await h.AppendAsync([Msg("before", 1)], DateTimeOffset.UtcNow, CancellationToken.None);
        await redis.Db.ExecuteAsync("SCRIPT", "FLUSH");
        var st = await h.AppendAsync([Msg("after", 2)], DateTimeOffset.UtcNow, CancellationToken.None);
        Assert.Equal((2L, 2, 3L), (st.LastSequence, st.LiveMessages, st.LiveTokens));
        await redis.Db.ExecuteAsync("SCRIPT", "FLUSH");
        Assert.Equal(["before", "after"], (await ReadAllAsync(h)).Select(m => m.Content));
    }

    [Fact]
    public async Task EveryWrite_RenewsTheTtl_OfEveryKey()
    {
        var store = await OpenAsync(ttlSeconds: 600);
        var h = (await store.CreateSessionAsync(Meta("ttl"), CancellationToken.None))!;
        await h.AppendAsync([Msg("a", 1)], DateTimeOffset.UtcNow, CancellationToken.None);
        await h.AddSummaryAsync(new ConversationSummary { SessionId = "ttl", SummaryText = "a", FirstSequence = 1, LastSequence = 1, MessageCount = 1 }, CancellationToken.None);
        foreach (var key in new[] { "meta", "msgs", "info", "sums" })
        {
            await redis.Db.KeyExpireAsync($"{_prefix}:s:{{ttl}}:{key}", TimeSpan.FromSeconds(5));
        }
        await h.EvictAsync([99L], CancellationToken.None);
        foreach (var key in new[] { "meta", "msgs", "info", "sums" })
        {
            var ttl = await redis.Db.KeyTimeToLiveAsync($"{_prefix}:s:{{ttl}}:{key}");
            Assert.True(ttl is { TotalSeconds: > 500 }, $"{key} has TTL {ttl}");
        }
    }

    [Fact]
    public async Task Save_ThatLostARace_MergesOntoTheStoredMetadata_AndKeepsTheOtherWritersMark()
    {
        var one = await OpenAsync();
        var two = await OpenAsync();
        var a = (await one.CreateSessionAsync(Meta("raced"), CancellationToken.None))!;
        var b = (await two.OpenSessionAsync("raced", CancellationToken.None))!;

        var first = a.State.Metadata.Clone();
        first.Metadata["a"] = 1;
        first.MaxMessages = 50;
        await a.SaveAsync(first, 0, 7, CancellationToken.None);

        // b still holds the metadata of version 1 and the mark 0: its save is refused, merged and saved again.
        var second = b.State.Metadata.Clone();
        second.Metadata["b"] = 2;
        second.MaxTokens = 999;
        var saved = await b.SaveAsync(second, 0, b.State.SummarizedThrough, CancellationToken.None);

        var stored = (await (await OpenAsync()).OpenSessionAsync("raced", CancellationToken.None))!.State;
        Assert.Equal((1, 2), ((int)stored.Metadata.Metadata["a"]!, (int)stored.Metadata.Metadata["b"]!));
        Assert.Equal((50, 999, 7L), (stored.Metadata.MaxMessages, stored.Metadata.MaxTokens, stored.SummarizedThrough));
        Assert.Equal(stored.Metadata.Metadata.ToJsonString(), saved.Metadata.Metadata.ToJsonString());

        // The next save from b goes through at once, on the version it just wrote.
        var third = saved.Metadata.Clone();
        third.Metadata.Remove("a");
        await b.SaveAsync(third, 0, saved.SummarizedThrough, CancellationToken.None);
        var after = await a.RefreshAsync(CancellationToken.None);
        Assert.False(after.Metadata.Metadata.ContainsKey("a"));
        Assert.Equal(7L, after.SummarizedThrough);
    }

    [Fact]
    public async Task Save_MovesTheIndexes_AndAppendFollows()
    {
        var store = await OpenAsync();
        var h = (await store.CreateSessionAsync(Meta("indexed"), CancellationToken.None))!;
        var meta = h.State.Metadata.Clone();
        meta.Status = SessionStatus.Archived;
        await h.SaveAsync(meta, 0, 0, CancellationToken.None);
        Assert.Equal(["indexed"], (await store.QuerySessionsAsync(new SessionQuery(null, SessionStatus.Archived, 10, 0), CancellationToken.None)).Select(m => m.SessionId));
        Assert.Empty(await store.QuerySessionsAsync(new SessionQuery(null, SessionStatus.Active, 10, 0), CancellationToken.None));

        // An add far from the indexed time moves every index entry; one within the slack leaves them.
        var keys = new RedisKeys(_prefix);
        var shard = keys.ShardKeys("indexed");
        var later = DateTimeOffset.UtcNow.AddHours(1);
        await h.AppendAsync([Msg("a", 1)], later, CancellationToken.None);
        await h.AppendAsync([Msg("b", 1)], later.AddMilliseconds(RedisIndexes.SlackMs / 2), CancellationToken.None);
        foreach (var index in new[] { shard[0], shard[2], keys.UserIndex("u1") })
        {
            var score = await redis.Db.SortedSetScoreAsync(index, "indexed");
            Assert.Equal(RedisMapping.Score(later), (long)score!.Value);
        }
        Assert.Null(await redis.Db.SortedSetScoreAsync(shard[1], "indexed"));
    }

    /// <inheritdoc />
    public Task InitializeAsync() => Task.CompletedTask;

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        foreach (var s in _stores)
        {
            await s.DisposeAsync();
        }
        await redis.DeletePrefixAsync(_prefix);
    }

    private static async Task<List<Message>> ReadAllAsync(ISessionHandle h)
    {
        var list = new List<Message>();
        await foreach (var m in h.ReadMessagesAsync(MessageQuery.All, CancellationToken.None))
        {
            list.Add(m);
        }
        return list;
    }

    private static Message Msg(string text, int tokens) => new(MessageRole.User, text) { TokenCount = tokens };

    private static SessionMetadata Meta(string id) => new() { SessionId = id, UserId = "u1", SummaryStrategy = SummaryStrategy.Manual };

    private async Task<RedisSessionStore> OpenAsync(int? ttlSeconds = null)
    {
        var store = new RedisSessionStore(redis.Options(_prefix, ttlSeconds));
        _stores.Add(store);
        await store.OpenAsync(CancellationToken.None);
        return store;
    }
}
