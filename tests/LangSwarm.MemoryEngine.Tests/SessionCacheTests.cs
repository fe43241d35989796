using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Testing;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>
/// Sessions live in the index file and load on first use: an open loads none, memory keeps the sessions in use
/// within the cache's byte budget, and the store's counters stay exact whichever sessions are in memory.
/// </summary>
public sealed class SessionCacheTests
{
    private static EngineOptions Options(IFileSystem fs, long cacheBytes) => new()
    {
        Path = "/mem",
        FileSystem = fs,
        Durability = DurabilityMode.None,
        SessionCacheBytes = cacheBytes,
        AutoVacuumDeadFraction = null,
    };

    /// <summary>Never finishes a summary: a session owing one stays owing, whenever the background worker runs.</summary>
    private sealed class StuckSummarizer : ISummarizer
    {
        public async Task<string> SummarizeAsync(IReadOnlyList<Message> messages, string? previousSummary, CancellationToken cancellationToken = default)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return "never";
        }
    }

    private static async Task<EngineBackend> OpenAsync(IFileSystem fs, long cacheBytes = 16L << 20)
    {
        // Without a summarizer of its own the backend makes extractive summaries in the background, and whether
        // one is done before a close would decide what a test finds owing after the reopen.
        var b = new EngineBackend(Options(fs, cacheBytes), new CrashHarness.FixedTokenCounter(), new StuckSummarizer());
        await b.ConnectAsync();
        return b;
    }

    private static Message Msg(int i) => new(MessageRole.User, $"message {i}") { TokenCount = 3 };

    [Fact]
    public async Task Open_LoadsNoSession_EvenWithAutomaticSummaries_WhenNoneIsOwed()
    {
        var fs = new FaultInjectingFileSystem();
        var b = await OpenAsync(fs);
        for (var i = 0; i < 50; i++)
        {
            // The seed's defaults: Periodic summaries every 100 messages, so connect asks which sessions owe one.
            await (await b.CreateSessionAsync(new SessionMetadata($"s{i}", "u"))).AddMessagesAsync([Msg(i), Msg(i + 1)]);
        }
        await b.DisposeAsync();

        b = await OpenAsync(fs);
        await b.WhenSummariesIdleAsync();
        Assert.Empty(b.Engine.Index.Resident());
        Assert.Equal(50, (await b.GetUsageStatsAsync()).TotalSessions);
        Assert.Equal(20, (await b.ListSessionsAsync(limit: 20)).Count);
        await b.DisposeAsync();
    }

    [Fact]
    public async Task SessionsOwingASummary_AreFoundAtConnect_WithoutVisitingTheOthers()
    {
        var fs = new FaultInjectingFileSystem();
        var b = await OpenAsync(fs);
        for (var i = 0; i < 30; i++)
        {
            await (await b.CreateSessionAsync(new SessionMetadata($"s{i}", "u") { AutoSummarizeThreshold = 5 })).AddMessageAsync(Msg(i));
        }
        // The summarizer never finishes, so this one stays owing (5 messages since the chain's end) across the close.
        var owing = (await b.GetSessionAsync("s7"))!;
        await owing.AddMessagesAsync([Msg(1), Msg(2), Msg(3), Msg(4)]);
        await b.DisposeAsync();

        b = await OpenAsync(fs);
        Assert.Equal(["s7"], b.Engine.Index.OwingSessionIds());
        await b.DisposeAsync();
    }

    [Fact]
    public async Task Reads_OfManySessions_StayWithinTheCacheBudget_AndEverySessionStaysReadable()
    {
        const long Budget = 64 << 10;
        var fs = new FaultInjectingFileSystem();
        var b = await OpenAsync(fs);
        for (var i = 0; i < 400; i++)
        {
            await (await b.CreateSessionAsync(new SessionMetadata($"s{i}", $"u{i % 7}") { SummaryStrategy = SummaryStrategy.Manual })).AddMessagesAsync([Msg(i), Msg(i + 1), Msg(i + 2)]);
        }
        await b.DisposeAsync();

        b = await OpenAsync(fs, Budget);
        for (var round = 0; round < 2; round++)
        {
            for (var i = 0; i < 400; i++)
            {
                var messages = await (await b.GetSessionAsync($"s{i}"))!.GetMessagesAsync();
                Assert.Equal([$"message {i}", $"message {i + 1}", $"message {i + 2}"], messages.Select(m => m.Content));
            }
        }
        b.Engine.Index.TrimCache();
        Assert.InRange(HeldBytes(b), 0, Budget);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.InRange(b.Engine.Index.ResidentCount, 1, 399); // the rest went once nothing held them
        var stats = await b.GetUsageStatsAsync();
        Assert.Equal((400, 1200), (stats.TotalSessions, stats.TotalMessages));
        Assert.True((await b.VerifyAsync()).Ok);
        await b.DisposeAsync();
    }

    [Fact]
    public async Task AHandleHeldAcrossATrim_KeepsItsSession_AndWritesThroughIt_AreNotLost()
    {
        var fs = new FaultInjectingFileSystem();
        var b = await OpenAsync(fs, cacheBytes: 0); // every clean session may go at once
        var held = await b.CreateSessionAsync(new SessionMetadata("held", "u") { SummaryStrategy = SummaryStrategy.Manual });
        await held.AddMessageAsync(Msg(0));
        await b.CheckpointAsync(); // committed, and let go by the cache
        GC.Collect();
        await held.AddMessageAsync(Msg(1)); // the same entry: the one the index finds
        Assert.Same(b.Engine.Index.Resident().Single(e => e.State.Metadata.SessionId == "held"), GetEntry(b, "held"));
        await b.CheckpointAsync();
        await held.AddMessageAsync(Msg(2));
        await b.DisposeAsync();

        b = await OpenAsync(fs);
        Assert.Equal(["message 0", "message 1", "message 2"], (await (await b.GetSessionAsync("held"))!.GetMessagesAsync()).Select(m => m.Content));
        await b.DisposeAsync();
    }

    [Fact]
    public async Task AfterTheIndexFileIsRebuilt_SessionsLetGo_LoadAgainFromTheNewFile()
    {
        var fs = new FaultInjectingFileSystem();
        var b = await OpenAsync(fs);
        for (var i = 0; i < 30; i++)
        {
            await (await b.CreateSessionAsync(new SessionMetadata($"s{i}", "u") { SummaryStrategy = SummaryStrategy.Manual })).AddMessageAsync(Msg(i));
        }
        await b.DisposeAsync();
        var index = StoreDamageTests.ReadAll(fs, Index.IndexFile.FileName);
        index.AsSpan(0, 2 * Format.BTreePageHeader.PageSize).Clear(); // both meta pages: the open rebuilds from the segments
        StoreDamageTests.WriteAll(fs, Index.IndexFile.FileName, index);

        b = await OpenAsync(fs, cacheBytes: 0);
        Assert.False(b.Recovery!.CheckpointLoaded);
        await b.CheckpointAsync(); // the rebuilt sessions are committed, then let go
        GC.Collect();
        GC.WaitForPendingFinalizers();
        for (var i = 0; i < 30; i++)
        {
            Assert.Equal([$"message {i}"], (await (await b.GetSessionAsync($"s{i}"))!.GetMessagesAsync()).Select(m => m.Content));
        }
        await b.DisposeAsync();
    }

    [Fact]
    public async Task Appends_ToACommittedSession_DoNotLoadItsEntries_AndEveryReadSeesThem()
    {
        var fs = new FaultInjectingFileSystem();
        var b = await OpenAsync(fs);
        var s = await b.CreateSessionAsync(new SessionMetadata("long", "u") { SummaryStrategy = SummaryStrategy.Manual, MaxMessages = 10_000 });
        await s.AddMessagesAsync([.. Enumerable.Range(0, 500).Select(Msg)]);
        await b.DisposeAsync();

        b = await OpenAsync(fs);
        s = (await b.GetSessionAsync("long"))!;
        await s.AddMessagesAsync([new Message(MessageRole.Assistant, "a1") { TokenCount = 3 }, Msg(500), new Message(MessageRole.Assistant, "a2") { TokenCount = 3 }]);
        var entry = GetEntry(b, "long");
        Assert.False(entry.MessagesLoaded); // three entries in memory, not 503
        Assert.Equal(503, (await b.GetUsageStatsAsync()).TotalMessages);
        Assert.Equal(["a1", "a2"], (await s.GetMessagesAsync(roles: [MessageRole.Assistant])).Select(m => m.Content));
        Assert.Equal(["message 499", "message 500"], (await s.GetMessagesAsync(limit: 2, roles: [MessageRole.User])).Select(m => m.Content));
        Assert.False(entry.MessagesLoaded);

        await b.CheckpointAsync(); // the file takes the three, the tail lets go of them
        await s.AddMessageAsync(Msg(501));
        Assert.False(entry.MessagesLoaded);
        Assert.Equal(["message 500", "message 501"], (await s.GetMessagesAsync(limit: 2, roles: [MessageRole.User])).Select(m => m.Content));
        var all = await s.GetMessagesAsync();
        Assert.Equal(504, all.Count);
        Assert.Equal(["a2", "message 501"], all.TakeLast(2).Select(m => m.Content));
        Assert.True((await b.VerifyAsync()).Ok);
        await b.DisposeAsync();

        b = await OpenAsync(fs);
        Assert.Equal(504, (await (await b.GetSessionAsync("long"))!.GetMessagesAsync()).Count);
        await b.DisposeAsync();
    }

    [Fact]
    public async Task ASessionChangedSinceItsCommit_LetsGoOfTheCommittedEntries_KeepingOnlyTheAppendsSince()
    {
        var fs = new FaultInjectingFileSystem();
        var b = await OpenAsync(fs, cacheBytes: 0);
        var s = await b.CreateSessionAsync(new SessionMetadata("rr", "u") { SummaryStrategy = SummaryStrategy.Manual, MaxMessages = 10_000 });
        await s.AddMessagesAsync([.. Enumerable.Range(0, 100).Select(Msg)]);
        await b.CheckpointAsync();
        Assert.Equal(100, (await s.GetMessagesAsync()).Count); // loaded again
        await s.AddMessagesAsync([Msg(100), Msg(101)]);
        var entry = GetEntry(b, "rr");
        Assert.True(entry.MessagesLoaded);

        b.Engine.Index.TrimCache(); // changed since the commit: kept, but only its two new entries stay in memory
        Assert.False(entry.MessagesLoaded);
        Assert.Equal(102, entry.MessageCount);
        Assert.Equal(["message 100", "message 101"], (await s.GetMessagesAsync(limit: 2)).Select(m => m.Content));
        await s.AddMessageAsync(Msg(102));
        Assert.Equal(103, (await s.GetMessagesAsync()).Count);
        await b.CheckpointAsync();
        Assert.True((await b.VerifyAsync()).Ok);
        await b.DisposeAsync();

        b = await OpenAsync(fs);
        var all = await (await b.GetSessionAsync("rr"))!.GetMessagesAsync();
        Assert.Equal(Enumerable.Range(0, 103).Select(i => $"message {i}"), all.Select(m => m.Content));
        await b.DisposeAsync();
    }

    [Fact]
    public async Task ASessionWithAnEvictionSinceItsCommit_KeepsItsEntries_UntilTheNextCheckpointSavesIt()
    {
        var fs = new FaultInjectingFileSystem();
        var none = CancellationToken.None;
        var store = new EngineSessionStore(Options(fs, cacheBytes: 0));
        await store.OpenAsync(none);
        var h = (await store.CreateSessionAsync(new SessionMetadata("ev", "u"), none))!;
        await h.AppendAsync([.. Enumerable.Range(0, 20).Select(Msg)], DateTimeOffset.UtcNow, none);
        await store.Engine.CheckpointAsync();
        await h.EvictAsync([1, 2, 3], none);
        Assert.True(store.Engine.Index.TryGet("ev", out var entry));

        store.Engine.Index.TrimCache(); // the file still holds 1–3: memory keeps the list that says they are gone
        Assert.True(entry.MessagesLoaded);
        Assert.Equal(17, (await h.ReadMessageInfosAsync(none)).Count);
        await store.Engine.CheckpointAsync(); // saved: now it may go
        Assert.False(entry.MessagesLoaded);
        Assert.Equal(Enumerable.Range(4, 17).Select(i => (long)i), (await h.ReadMessageInfosAsync(none)).Select(m => m.Sequence));
        await store.DisposeAsync();

        store = new EngineSessionStore(Options(fs, cacheBytes: 0));
        await store.OpenAsync(none);
        Assert.Equal(17, (await (await store.OpenSessionAsync("ev", none))!.ReadMessageInfosAsync(none)).Count);
        await store.DisposeAsync();
    }

    /// <summary>
    /// Random creates, appends, deletes, checkpoints and reopens under a budget that lets every clean session
    /// go: the store's totals always equal a count over every session, and verify agrees with the segments.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Totals_StayExact_WhateverIsInMemory(int seed)
    {
        var rng = new Random(seed);
        var fs = new FaultInjectingFileSystem();
        var b = await OpenAsync(fs, cacheBytes: rng.Next(2) == 0 ? 0 : 4096);
        var model = new Dictionary<string, int>();
        var next = 0;
        for (var step = 0; step < 300; step++)
        {
            var op = rng.Next(100);
            if (op < 25 || model.Count == 0)
            {
                var id = $"s{next++}";
                await b.CreateSessionAsync(new SessionMetadata(id, $"u{rng.Next(3)}") { SummaryStrategy = SummaryStrategy.Manual });
                model[id] = 0;
            }
            else if (op < 75)
            {
                var id = model.Keys.ElementAt(rng.Next(model.Count));
                var n = rng.Next(1, 4);
                await (await b.GetSessionAsync(id))!.AddMessagesAsync([.. Enumerable.Range(0, n).Select(Msg)]);
                model[id] += n;
            }
            else if (op < 85)
            {
                var id = model.Keys.ElementAt(rng.Next(model.Count));
                Assert.True(await b.DeleteSessionAsync(id));
                model.Remove(id);
            }
            else if (op < 95)
            {
                await b.CheckpointAsync();
                GC.Collect();
            }
            else
            {
                await b.DisposeAsync();
                b = await OpenAsync(fs, cacheBytes: 0);
            }
            var stats = await b.GetUsageStatsAsync();
            Assert.Equal((model.Count, model.Values.Sum()), (stats.TotalSessions, stats.TotalMessages));
        }
        Assert.True((await b.VerifyAsync()).Ok);
        await b.DisposeAsync();
    }

    private static long HeldBytes(EngineBackend b)
    {
        long total = 0;
        foreach (var e in b.Engine.Index.Held())
        {
            lock (e.Lock)
            {
                total += e.EstimatedBytes;
            }
        }
        return total;
    }

    private static Index.SessionEntry GetEntry(EngineBackend b, string id) =>
        b.Engine.Index.TryGet(id, out var e) ? e : throw new InvalidOperationException(id);
}
