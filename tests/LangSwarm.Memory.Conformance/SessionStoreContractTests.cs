using Xunit;

namespace LangSwarm.Memory.Conformance;

/// <summary>
/// The storage contract (<see cref="ISessionStore"/>, <see cref="ISessionHandle"/>) every store keeps, below the
/// session layer: the store alone computes counters, and a handle works until its session is removed.
/// </summary>
public abstract class SessionStoreContractTests : IAsyncLifetime
{
    private ISessionStore? _store;

    /// <summary>The store under test, open.</summary>
    protected ISessionStore Store => _store ?? throw new InvalidOperationException("Store not created yet.");

    /// <summary>A new store over new, empty storage (not yet open).</summary>
    protected abstract ISessionStore CreateStore();

    /// <summary>A new store over the same storage as <see cref="CreateStore"/> made (after the first is closed); null when not persistent.</summary>
    protected abstract ISessionStore? ReopenStore();

    /// <summary>Removes what <see cref="CreateStore"/> made.</summary>
    protected virtual Task CleanupStorageAsync() => Task.CompletedTask;

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        _store = CreateStore();
        await _store.OpenAsync(CancellationToken.None);
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.CloseAsync(CancellationToken.None);
            await _store.DisposeAsync();
        }
        await CleanupStorageAsync();
    }

    private static Message Msg(MessageRole role, string text, int tokens) => new(role, text) { TokenCount = tokens };

    private static SessionMetadata Meta(string id) => new() { SessionId = id, UserId = "u1", MaxMessages = 10, MaxTokens = 1000 };

    [Fact]
    public async Task Create_ThenCreateAgain_GivesNull_AndOpenFindsIt()
    {
        var h = await Store.CreateSessionAsync(Meta("s1"), CancellationToken.None);
        Assert.NotNull(h);
        Assert.Equal("s1", h.SessionId);
        Assert.Equal(new SessionSnapshot(h.State.Metadata, 0, 0, 0, 0), h.State);
        Assert.Null(await Store.CreateSessionAsync(Meta("s1"), CancellationToken.None));
        var again = await Store.OpenSessionAsync("s1", CancellationToken.None);
        Assert.NotNull(again);
        Assert.Equal("u1", again.State.Metadata.UserId);
        Assert.Null(await Store.OpenSessionAsync("nope", CancellationToken.None));
    }

    [Fact]
    public async Task Append_AssignsSequences_AndTheStoreCountsThem()
    {
        var h = (await Store.CreateSessionAsync(Meta("s1"), CancellationToken.None))!;
        var at = DateTimeOffset.UtcNow.AddMinutes(1);
        var batch = new[] { Msg(MessageRole.User, "a", 5), Msg(MessageRole.Assistant, "b", 7) };
        var s = await h.AppendAsync(batch, at, CancellationToken.None);
        Assert.Equal([1L, 2L], batch.Select(m => m.Sequence));
        Assert.Equal((2L, 2, 12L), (s.LastSequence, s.LiveMessages, s.LiveTokens));
        Assert.Equal(at.UtcTicks, s.Metadata.UpdatedAt.UtcTicks, TimeSpan.FromMilliseconds(1).Ticks);
        Assert.Equal(s, h.State);
        s = await h.AppendAsync([Msg(MessageRole.User, "c", 3)], at, CancellationToken.None);
        Assert.Equal((3L, 3, 15L), (s.LastSequence, s.LiveMessages, s.LiveTokens));

        var other = (await Store.OpenSessionAsync("s1", CancellationToken.None))!;
        var refreshed = await other.RefreshAsync(CancellationToken.None);
        Assert.Equal((3L, 3, 15L), (refreshed.LastSequence, refreshed.LiveMessages, refreshed.LiveTokens));
        var all = await ToListAsync(h.ReadMessagesAsync(MessageQuery.All, CancellationToken.None));
        Assert.Equal(["a", "b", "c"], all.Select(m => m.Content));
        Assert.Equal([1L, 2L, 3L], all.Select(m => m.Sequence));
        var newest = await h.ReadNewestMessagesAsync(MessageQuery.All, 2, CancellationToken.None);
        Assert.Equal(["b", "c"], newest.Select(m => m.Content));
        var infos = await h.ReadMessageInfosAsync(CancellationToken.None);
        Assert.Equal([5, 7, 3], infos.Select(i => i.TokenCount));
    }

    [Fact]
    public async Task Evict_RemovesFromTheWindow_AndTheCounters()
    {
        var h = (await Store.CreateSessionAsync(Meta("s1"), CancellationToken.None))!;
        await h.AppendAsync([Msg(MessageRole.User, "a", 5), Msg(MessageRole.Assistant, "b", 7), Msg(MessageRole.User, "c", 3)], DateTimeOffset.UtcNow, CancellationToken.None);
        var s = await h.EvictAsync([1L, 2L, 99L], CancellationToken.None);
        Assert.Equal((3L, 1, 3L), (s.LastSequence, s.LiveMessages, s.LiveTokens));
        var left = await ToListAsync(h.ReadMessagesAsync(MessageQuery.All, CancellationToken.None));
        Assert.Equal(["c"], left.Select(m => m.Content));
        s = await h.AppendAsync([Msg(MessageRole.User, "d", 1)], DateTimeOffset.UtcNow, CancellationToken.None);
        Assert.Equal((4L, 2, 4L), (s.LastSequence, s.LiveMessages, s.LiveTokens));
    }

    [Fact]
    public async Task Summary_MovesTheMark_AndSaveKeepsCounters()
    {
        var h = (await Store.CreateSessionAsync(Meta("s1"), CancellationToken.None))!;
        await h.AppendAsync([Msg(MessageRole.User, "a", 5), Msg(MessageRole.Assistant, "b", 7)], DateTimeOffset.UtcNow, CancellationToken.None);
        var s = await h.AddSummaryAsync(new ConversationSummary { SessionId = "s1", SummaryText = "ab", FirstSequence = 1, LastSequence = 2, MessageCount = 2 }, CancellationToken.None);
        Assert.Equal(2L, s.SummarizedThrough);
        var summaries = await h.ReadSummariesAsync(CancellationToken.None);
        Assert.Equal("ab", Assert.Single(summaries).SummaryText);
        Assert.Equal((1L, 2L), (summaries[0].FirstSequence, summaries[0].LastSequence));

        var meta = s.Metadata.Clone();
        meta.Metadata["k"] = "v";
        meta.Status = SessionStatus.Archived;
        s = await h.SaveAsync(meta, 10, 2, CancellationToken.None);
        Assert.Equal((10L, 2, 12L, 2L), (s.LastSequence, s.LiveMessages, s.LiveTokens, s.SummarizedThrough));
        Assert.Equal(SessionStatus.Archived, s.Metadata.Status);
        s = await h.AppendAsync([Msg(MessageRole.User, "c", 1)], DateTimeOffset.UtcNow, CancellationToken.None);
        Assert.Equal(11L, s.LastSequence);
    }

    [Fact]
    public async Task Remove_StopsEveryHandle()
    {
        var h = (await Store.CreateSessionAsync(Meta("s1"), CancellationToken.None))!;
        Assert.True(await Store.RemoveSessionAsync("s1", CancellationToken.None));
        Assert.False(await Store.RemoveSessionAsync("s1", CancellationToken.None));
        var batch = new[] { Msg(MessageRole.User, "a", 1) };
        await Assert.ThrowsAsync<SessionNotFoundException>(() => h.AppendAsync(batch, DateTimeOffset.UtcNow, CancellationToken.None));
        Assert.Equal(0, batch[0].Sequence);
        await Assert.ThrowsAsync<SessionNotFoundException>(() => h.RefreshAsync(CancellationToken.None));
        Assert.Null(await Store.OpenSessionAsync("s1", CancellationToken.None));

        // A session created again under the id is a new session; the old handle still sees none.
        var fresh = (await Store.CreateSessionAsync(Meta("s1"), CancellationToken.None))!;
        await fresh.AppendAsync([Msg(MessageRole.User, "x", 1)], DateTimeOffset.UtcNow, CancellationToken.None);
        await Assert.ThrowsAsync<SessionNotFoundException>(() => h.EvictAsync([1L], CancellationToken.None));
        Assert.Equal(1, (await fresh.RefreshAsync(CancellationToken.None)).LiveMessages);
    }

    [Fact]
    public async Task QueryAndAge_SeeWhatWasWritten()
    {
        var old = DateTimeOffset.UtcNow.AddDays(-10);
        var meta = Meta("old");
        meta.CreatedAt = old;
        meta.UpdatedAt = old;
        await Store.CreateSessionAsync(meta, CancellationToken.None);
        var fresh = (await Store.CreateSessionAsync(Meta("new"), CancellationToken.None))!;
        await fresh.AppendAsync([Msg(MessageRole.User, "a", 1)], DateTimeOffset.UtcNow, CancellationToken.None);
        var listed = await Store.QuerySessionsAsync(new SessionQuery("u1", null, 10, 0), CancellationToken.None);
        Assert.Equal(["new", "old"], listed.Select(m => m.SessionId));
        Assert.Equal(["old"], await Store.FindSessionsUpdatedBeforeAsync(DateTimeOffset.UtcNow.AddDays(-1), null, CancellationToken.None));
        Assert.Empty(await Store.FindSessionsUpdatedBeforeAsync(DateTimeOffset.UtcNow.AddDays(-1), SessionStatus.Archived, CancellationToken.None));
        var stats = await Store.ComputeUsageStatsAsync(CancellationToken.None);
        Assert.Equal((2L, 1L), (stats.TotalSessions, stats.TotalMessages));
    }

    [Fact]
    public async Task Reopen_KeepsStateAndCounters()
    {
        var h = (await Store.CreateSessionAsync(Meta("s1"), CancellationToken.None))!;
        await h.AppendAsync([Msg(MessageRole.User, "a", 5), Msg(MessageRole.Assistant, "b", 7), Msg(MessageRole.User, "c", 3)], DateTimeOffset.UtcNow, CancellationToken.None);
        await h.EvictAsync([1L], CancellationToken.None);
        await h.AddSummaryAsync(new ConversationSummary { SessionId = "s1", SummaryText = "a", FirstSequence = 1, LastSequence = 1, MessageCount = 1 }, CancellationToken.None);
        await Store.CloseAsync(CancellationToken.None);
        await Store.DisposeAsync();
        _store = ReopenStore();
        if (_store is null)
        {
            return;
        }
        await _store.OpenAsync(CancellationToken.None);
        var again = (await _store.OpenSessionAsync("s1", CancellationToken.None))!;
        Assert.Equal((3L, 2, 10L, 1L), (again.State.LastSequence, again.State.LiveMessages, again.State.LiveTokens, again.State.SummarizedThrough));
        Assert.Single(await again.ReadSummariesAsync(CancellationToken.None));
    }

    [Fact]
    public async Task NewestInfos_AreTheNewestMatches_Ascending()
    {
        var h = await FilledAsync(Store, "s1", 40);
        var all = await h.ReadMessageInfosAsync(CancellationToken.None);
        Assert.Equal(40, all.Count);
        foreach (var q in Queries())
        {
            foreach (var limit in new[] { 0, 1, 3, 64, 1000 })
            {
                var page = await h.ReadNewestMessageInfosAsync(q, limit, CancellationToken.None);
                Assert.Equal(Expected(all, q, limit), page);
            }
        }
    }

    [Fact]
    public async Task NewestInfos_PageBackwards_OverTheLiveMessagesOnly()
    {
        var h = await FilledAsync(Store, "s1", 300);
        long[] evicted = [2, 3, 4, 150, 151, 298, 300];
        await h.EvictAsync(evicted, CancellationToken.None);
        var all = await h.ReadMessageInfosAsync(CancellationToken.None);
        Assert.Equal(293, all.Count);
        foreach (var roles in new MessageRole[]?[] { null, [MessageRole.User, MessageRole.Tool] })
        {
            var walked = new List<MessageInfo>();
            var to = long.MaxValue;
            while (true)
            {
                var page = await h.ReadNewestMessageInfosAsync(new MessageQuery { Roles = roles, ToSequence = to }, 7, CancellationToken.None);
                walked.InsertRange(0, page);
                if (page.Count < 7)
                {
                    break;
                }
                to = page[0].Sequence - 1;
            }
            Assert.Equal(Expected(all, new MessageQuery { Roles = roles }, int.MaxValue), walked);
            Assert.DoesNotContain(walked, i => evicted.Contains(i.Sequence));
        }
        Assert.Equal([297L, 299L], (await h.ReadNewestMessageInfosAsync(MessageQuery.All, 2, CancellationToken.None)).Select(i => i.Sequence));
    }

    [Fact]
    public async Task NewestInfos_OfAnEmptySession_AndOfARemovedOne()
    {
        var h = (await Store.CreateSessionAsync(Meta("s1"), CancellationToken.None))!;
        Assert.Empty(await h.ReadNewestMessageInfosAsync(MessageQuery.All, 5, CancellationToken.None));
        Assert.Empty(await h.ReadNewestMessageInfosAsync(new MessageQuery { Roles = [MessageRole.System] }, 5, CancellationToken.None));
        Assert.Empty(await h.ReadNewestMessageInfosAsync(MessageQuery.All, 0, CancellationToken.None));
        await Store.RemoveSessionAsync("s1", CancellationToken.None);
        await Assert.ThrowsAsync<SessionNotFoundException>(() => h.ReadNewestMessageInfosAsync(MessageQuery.All, 5, CancellationToken.None));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => h.ReadNewestMessageInfosAsync(MessageQuery.All, 0, CancellationToken.None));
    }

    [Fact]
    public async Task NewestInfos_AfterReopen_SpanWhatWasStoredAndWhatFollowed()
    {
        var h = await FilledAsync(Store, "s1", 3_000);
        await h.EvictAsync([1L, 2L, 3L, 1_500L], CancellationToken.None);
        await Store.CloseAsync(CancellationToken.None);
        await Store.DisposeAsync();
        _store = ReopenStore();
        if (_store is null)
        {
            return;
        }
        await _store.OpenAsync(CancellationToken.None);
        var again = (await _store.OpenSessionAsync("s1", CancellationToken.None))!;
        var more = new List<Message>();
        for (var i = 0; i < 20; i++)
        {
            more.Add(new Message(i % 5 == 0 ? MessageRole.System : MessageRole.User, $"more{i}") { TokenCount = i, Timestamp = Start.AddDays(1).AddMinutes(i) });
        }
        await again.AppendAsync(more, DateTimeOffset.UtcNow, CancellationToken.None);

        // Every newest read before anything reads the whole session (which a store may then keep in memory).
        var asked = new List<(MessageQuery Query, int Limit, IReadOnlyList<MessageInfo> Page)>();
        foreach (var q in Queries().Append(new MessageQuery { FromSequence = 1_490, ToSequence = 2_990 }).Append(new MessageQuery { ToSequence = 1_501 }))
        {
            foreach (var limit in new[] { 0, 1, 30, 100 })
            {
                asked.Add((q, limit, await again.ReadNewestMessageInfosAsync(q, limit, CancellationToken.None)));
            }
        }
        var newestText = await again.ReadNewestMessagesAsync(new MessageQuery { ToSequence = 3_005 }, 8, CancellationToken.None);
        Assert.Equal(Enumerable.Range(2_998, 3).Select(i => $"m{i}").Concat(Enumerable.Range(0, 5).Select(i => $"more{i}")), newestText.Select(m => m.Content));

        var all = await again.ReadMessageInfosAsync(CancellationToken.None);
        Assert.Equal(3_016, all.Count);
        foreach (var (q, limit, page) in asked)
        {
            Assert.Equal(Expected(all, q, limit), page);
        }
    }

    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>A session of <paramref name="count"/> messages of every role, with fixed times and token counts.</summary>
    private static async Task<ISessionHandle> FilledAsync(ISessionStore store, string id, int count)
    {
        var h = (await store.CreateSessionAsync(Meta(id), CancellationToken.None))!;
        var batch = new List<Message>();
        for (var i = 1; i <= count; i++)
        {
            var role = i % 10 == 1 ? MessageRole.System : i % 7 == 0 ? MessageRole.Tool : i % 2 == 0 ? MessageRole.User : MessageRole.Assistant;
            batch.Add(new Message(role, $"m{i}") { TokenCount = i % 13, Timestamp = Start.AddMinutes(i) });
            if (batch.Count == 500 || i == count)
            {
                await h.AppendAsync(batch, DateTimeOffset.UtcNow, CancellationToken.None);
                batch = [];
            }
        }
        return h;
    }

    private static IEnumerable<MessageQuery> Queries() =>
    [
        MessageQuery.All,
        new MessageQuery { Roles = [MessageRole.User] },
        new MessageQuery { Roles = [MessageRole.System, MessageRole.Tool] },
        new MessageQuery { FromSequence = 5, ToSequence = 30 },
        new MessageQuery { FromSequence = 35 },
        new MessageQuery { ToSequence = 3 },
        new MessageQuery { Since = Start.AddMinutes(20) },
        new MessageQuery { Roles = [MessageRole.Assistant], ToSequence = 20 },
        new MessageQuery { FromSequence = 20, ToSequence = 10 },
    ];

    /// <summary>The reference answer: every live info that matches, the newest <paramref name="limit"/> of them.</summary>
    private static List<MessageInfo> Expected(IReadOnlyList<MessageInfo> all, MessageQuery q, int limit) =>
        [.. all.Where(i => q.Matches(i.Sequence, i.Timestamp, i.Role)).TakeLast(Math.Max(limit, 0))];

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> source)
    {
        var list = new List<T>();
        await foreach (var x in source)
        {
            list.Add(x);
        }
        return list;
    }
}
