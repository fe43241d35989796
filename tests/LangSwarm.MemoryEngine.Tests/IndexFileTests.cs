using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Engine;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Index.BTree;
using LangSwarm.MemoryEngine.Recovery;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>The engine over its index file: lazy loading, incremental checkpoints, unloading, damage and versions.</summary>
public sealed class IndexFileTests
{
    private static async Task<EngineBackend> OpenAsync(string path, int maxLoaded = 10_000, long indexCompactMinFreeBytes = 4 << 20)
    {
        var backend = new EngineBackend(new EngineOptions { Path = path, Durability = DurabilityMode.None, MaxLoadedSessions = maxLoaded, IndexCompactMinFreeBytes = indexCompactMinFreeBytes });
        await backend.ConnectAsync();
        return backend;
    }

    private static async Task FillAsync(EngineBackend backend, int sessions, int messages)
    {
        for (var k = 0; k < sessions; k++)
        {
            var s = await backend.CreateSessionAsync(new SessionMetadata($"s{k}", $"user{k % 3}") { SummaryStrategy = SummaryStrategy.Manual });
            await s.AddMessagesAsync(Enumerable.Range(0, messages).Select(i => new Message(MessageRole.User, $"s{k} m{i}") { TokenCount = 3 }));
        }
    }

    [Fact]
    public async Task Reopen_LoadsNoSession_AndEachSessionAndItsEntriesOnFirstUse()
    {
        using var dir = new TempStore();
        var backend = await OpenAsync(dir.Path);
        await FillAsync(backend, 20, 30);
        await backend.DisposeAsync();

        backend = await OpenAsync(dir.Path);
        Assert.Empty(backend.Engine.Index.Resident());
        var stats = await backend.GetUsageStatsAsync();
        Assert.Equal(20, stats.TotalSessions);
        Assert.Equal(600, stats.TotalMessages);
        Assert.Empty(backend.Engine.Index.Resident()); // stats come from the file's totals, not from the sessions

        var session = await backend.GetSessionAsync("s7");
        var got = await session!.GetMessagesAsync();
        Assert.Equal(Enumerable.Range(0, 30).Select(i => $"s7 m{i}"), got.Select(m => m.Content));
        Assert.Single(backend.Engine.Index.Resident(), e => e.MessagesLoaded);
        Assert.Equal(3, (await backend.ListSessionsAsync(userId: "user1")).Count(m => m.SessionId is "s1" or "s4" or "s7"));
        Assert.True((await backend.VerifyAsync()).Ok);
        await backend.DisposeAsync();
    }

    [Fact]
    public async Task Checkpoint_WritesOnlyTheSessionsThatChanged()
    {
        using var dir = new TempStore();
        var backend = await OpenAsync(dir.Path);
        await FillAsync(backend, 50, 5);
        await backend.CheckpointAsync();
        Assert.Equal(50, backend.Engine.LastCheckpointSessions);

        await (await backend.GetSessionAsync("s3"))!.AddMessageAsync(new Message(MessageRole.Assistant, "one more") { TokenCount = 2 });
        await backend.CheckpointAsync();
        Assert.Equal(1, backend.Engine.LastCheckpointSessions);
        await backend.CheckpointAsync();
        Assert.Equal(0, backend.Engine.LastCheckpointSessions);

        await backend.DeleteSessionAsync("s4");
        await backend.CheckpointAsync();
        await backend.DisposeAsync();

        backend = await OpenAsync(dir.Path);
        Assert.Null(await backend.GetSessionAsync("s4"));
        Assert.Equal(6, (await (await backend.GetSessionAsync("s3"))!.GetMessagesAsync()).Count);
        Assert.Equal(49, (await backend.GetUsageStatsAsync()).TotalSessions);
        Assert.True((await backend.VerifyAsync()).Ok);
        await backend.DisposeAsync();
    }

    [Fact]
    public async Task EvictionsAndSummaries_AreSavedAsDeltas_AndReadBackAfterReopen()
    {
        using var dir = new TempStore();
        var backend = await OpenAsync(dir.Path);
        var s = await backend.CreateSessionAsync(new SessionMetadata("win", "u") { MaxMessages = 10, SummaryStrategy = SummaryStrategy.Manual });
        for (var round = 0; round < 5; round++)
        {
            for (var i = 0; i < 7; i++)
            {
                await s.AddMessageAsync(new Message(MessageRole.User, $"r{round} m{i}") { TokenCount = 2 });
            }
            await s.CreateSummaryAsync();
            await backend.CheckpointAsync();
        }
        var expected = (await s.GetMessagesAsync()).Select(m => m.Content).ToList();
        var summaries = (await s.GetSummariesAsync()).Select(x => x.SummaryText).ToList();
        await backend.DisposeAsync();

        backend = await OpenAsync(dir.Path);
        var again = (await backend.GetSessionAsync("win"))!;
        Assert.Equal(expected, (await again.GetMessagesAsync()).Select(m => m.Content));
        Assert.Equal(summaries, (await again.GetSummariesAsync()).Select(x => x.SummaryText));
        Assert.True((await backend.VerifyAsync()).Ok);
        await backend.DisposeAsync();
    }

    [Fact]
    public async Task PastMaxLoadedSessions_ACheckpointUnloadsTheColdest_AndTheyLoadAgain()
    {
        using var dir = new TempStore();
        var backend = await OpenAsync(dir.Path);
        await FillAsync(backend, 20, 4);
        await backend.DisposeAsync();

        backend = await OpenAsync(dir.Path, maxLoaded: 5);
        for (var k = 0; k < 20; k++)
        {
            Assert.Equal(4, (await (await backend.GetSessionAsync($"s{k}"))!.GetMessagesAsync()).Count);
        }
        Assert.Equal(20, backend.Engine.Index.Resident().Count(e => e.MessagesLoaded));
        await backend.CheckpointAsync();
        Assert.Equal(5, backend.Engine.Index.Resident().Count(e => e.MessagesLoaded));
        Assert.Equal(Enumerable.Range(0, 4).Select(i => $"s0 m{i}"), (await (await backend.GetSessionAsync("s0"))!.GetMessagesAsync()).Select(m => m.Content));
        await backend.DisposeAsync();
    }

    [Fact]
    public async Task DamagedIndexFile_IsRebuiltFromTheSegments()
    {
        using var dir = new TempStore();
        var backend = await OpenAsync(dir.Path);
        await FillAsync(backend, 10, 10);
        await backend.DisposeAsync();
        var path = Path.Combine(dir.Path, IndexFile.FileName);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes.AsSpan(0, 2 * BTreePageHeader.PageSize).Clear(); // both meta pages
        await File.WriteAllBytesAsync(path, bytes);

        backend = await OpenAsync(dir.Path);
        Assert.False(backend.Recovery!.CheckpointLoaded);
        Assert.Contains("index file ignored", backend.Recovery.CheckpointProblem);
        Assert.Equal(10, (await (await backend.GetSessionAsync("s9"))!.GetMessagesAsync()).Count);
        Assert.True((await backend.VerifyAsync()).Ok);
        await backend.DisposeAsync();

        backend = await OpenAsync(dir.Path);
        Assert.True(backend.Recovery!.CheckpointLoaded);
        await backend.DisposeAsync();
    }

    [Fact]
    public async Task DamagedMessagePage_IsRebuiltFromTheSegments_ReportedAndRepairedByTheNextCheckpoint()
    {
        using var dir = new TempStore();
        var backend = await OpenAsync(dir.Path);
        await FillAsync(backend, 1, 500);
        await backend.DisposeAsync();
        var path = Path.Combine(dir.Path, IndexFile.FileName);
        var bytes = await File.ReadAllBytesAsync(path);
        var damaged = false;
        for (var at = 2 * BTreePageHeader.PageSize; at + BTreePageHeader.PageSize <= bytes.Length && !damaged; at += BTreePageHeader.PageSize)
        {
            if (bytes[at + 4] == (byte)BTreePageType.Leaf && bytes[at + BTreePageHeader.Size + 3] == IndexKeys.Message) // first key: 3 one-byte varints, then 'M'
            {
                bytes[at + 200] ^= 0x10;
                damaged = true;
            }
        }
        Assert.True(damaged);
        await File.WriteAllBytesAsync(path, bytes);

        backend = await OpenAsync(dir.Path);
        var s = (await backend.GetSessionAsync("s0"))!;
        Assert.Equal(Enumerable.Range(0, 500).Select(i => $"s0 m{i}"), (await s.GetMessagesAsync()).Select(m => m.Content));
        Assert.Contains(backend.Engine.Damage, d => d.File == IndexFile.FileName);
        Assert.Equal(HealthStatus.Degraded, (await backend.HealthCheckAsync()).Status);

        await backend.CheckpointAsync(); // rewrites the session's entries (the damaged page goes with them)
        Assert.True((await backend.VerifyAsync()).Ok);
        await backend.DisposeAsync();

        backend = await OpenAsync(dir.Path);
        Assert.Equal(500, (await (await backend.GetSessionAsync("s0"))!.GetMessagesAsync()).Count);
        Assert.Empty(backend.Engine.Damage);
        Assert.True((await backend.VerifyAsync()).Ok);
        await backend.DisposeAsync();
    }

    [Fact]
    public async Task DamagedSessionRecord_FoundAfterOpen_IsATypedError_AndTheNextOpenRebuildsFromTheSegments()
    {
        using var dir = new TempStore();
        var backend = await OpenAsync(dir.Path);
        // Enough sessions that their records fill pages the open does not read: a page that also held the keys
        // the open reads (V, W, Z) would make the open rebuild instead of the first use failing.
        await FillAsync(backend, 120, 3);
        await backend.DisposeAsync();
        DamageFirstLeafOf(dir.Path, IndexKeys.Session);

        // Sessions load on first use: the open reads no session record, the first use of a damaged one fails.
        backend = await OpenAsync(dir.Path);
        Assert.True(backend.Recovery!.CheckpointLoaded);
        await Assert.ThrowsAsync<StorageCorruptionException>(() => backend.GetSessionAsync("s0"));
        Assert.Contains(backend.Engine.Damage, d => d.File == IndexFile.FileName);
        Assert.Equal(HealthStatus.Degraded, (await backend.HealthCheckAsync()).Status);
        Assert.True(File.Exists(Path.Combine(dir.Path, StoreRoot.RebuildFile)));
        await backend.DisposeAsync();

        backend = await OpenAsync(dir.Path);
        Assert.False(backend.Recovery!.CheckpointLoaded);
        Assert.Contains("damaged session record", backend.Recovery.CheckpointProblem);
        Assert.False(File.Exists(Path.Combine(dir.Path, StoreRoot.RebuildFile)));
        for (var k = 0; k < 120; k++)
        {
            Assert.Equal(3, (await (await backend.GetSessionAsync($"s{k}"))!.GetMessagesAsync()).Count);
        }
        Assert.Equal(360, (await backend.GetUsageStatsAsync()).TotalMessages);
        Assert.True((await backend.VerifyAsync()).Ok);
        await backend.DisposeAsync();
    }

    private static void DamageFirstLeafOf(string store, byte space)
    {
        var path = Path.Combine(store, IndexFile.FileName);
        var bytes = File.ReadAllBytes(path);
        Assert.True(DamageFirstLeafOf(bytes, space));
        File.WriteAllBytes(path, bytes);
    }

    /// <summary>Flips a byte in the first leaf page of an index file that holds a key of <paramref name="space"/> (its checksum then fails).</summary>
    internal static bool DamageFirstLeafOf(byte[] bytes, byte space)
    {
        var pages = (uint)(bytes.Length / BTreePageHeader.PageSize);
        for (uint n = 2; n < pages; n++)
        {
            var page = bytes.AsSpan((int)n * BTreePageHeader.PageSize, BTreePageHeader.PageSize);
            if (BTreePageHeader.TryRead(page, n, out var h) is not null || h.Type != BTreePageType.Leaf)
            {
                continue;
            }
            if (Node.Decode(page, h, pages).Keys.Exists(k => k[0] == space))
            {
                page[200] ^= 0x10;
                return true;
            }
        }
        return false;
    }

    [Fact]
    public async Task NewerIndexFileVersion_IsRefused_AndLeftAlone()
    {
        using var dir = new TempStore();
        var backend = await OpenAsync(dir.Path);
        await FillAsync(backend, 1, 1);
        await backend.DisposeAsync();
        var path = Path.Combine(dir.Path, IndexFile.FileName);
        var bytes = await File.ReadAllBytesAsync(path);
        for (var slot = 0; slot < 2; slot++)
        {
            var page = bytes.AsSpan(slot * BTreePageHeader.PageSize, BTreePageHeader.PageSize);
            page[BTreePageHeader.Size + 8] = 9; // version
            BTreePageHeader.Seal(page);
        }
        await File.WriteAllBytesAsync(path, bytes);

        await Assert.ThrowsAsync<StoreVersionException>(() => OpenAsync(dir.Path));
        Assert.Equal(bytes, await File.ReadAllBytesAsync(path));
    }

    [Fact]
    public async Task LegacySnapshotCheckpoint_IsRemoved_NotReportedAsForeign()
    {
        using var dir = new TempStore();
        var backend = await OpenAsync(dir.Path);
        await FillAsync(backend, 2, 2);
        await backend.DisposeAsync();
        await File.WriteAllBytesAsync(Path.Combine(dir.Path, "index.ckpt"), [1, 2, 3]);

        backend = await OpenAsync(dir.Path);
        Assert.Empty(backend.Recovery!.ForeignFiles);
        Assert.False(File.Exists(Path.Combine(dir.Path, "index.ckpt")));
        await backend.DisposeAsync();
    }

    [Fact]
    public async Task Vacuum_RepacksAnIndexFileLeftMostlyFree()
    {
        using var dir = new TempStore();
        var backend = await OpenAsync(dir.Path, indexCompactMinFreeBytes: 0);
        await FillAsync(backend, 200, 40);
        await backend.CheckpointAsync();
        var full = backend.Engine.IndexFileBytes;
        for (var k = 0; k < 180; k++)
        {
            await backend.DeleteSessionAsync($"s{k}");
        }
        await backend.CheckpointAsync();
        var report = await backend.VacuumAsync();
        Assert.True(report.IndexBytesReclaimed > 0, $"index file {full} bytes, vacuum reclaimed {report.IndexBytesReclaimed}");
        Assert.True(backend.Engine.IndexFileBytes < full / 3, $"index file {full} -> {backend.Engine.IndexFileBytes}");
        Assert.True((await backend.VerifyAsync()).Ok);
        await backend.DisposeAsync();

        backend = await OpenAsync(dir.Path);
        Assert.Equal(20, (await backend.GetUsageStatsAsync()).TotalSessions);
        Assert.Equal(40, (await (await backend.GetSessionAsync("s199"))!.GetMessagesAsync()).Count);
        await backend.DisposeAsync();
    }

    [Fact]
    public async Task ReadFailure_IsAStorageFailure_NotARawIOException()
    {
        var fs = new Testing.FaultInjectingFileSystem();
        var options = new EngineOptions { Path = "store", FileSystem = fs, Durability = DurabilityMode.None };
        var backend = new EngineBackend(options);
        await backend.ConnectAsync();
        await FillAsync(backend, 40, 30); // s0's message entries then sit in index pages the open does not read
        await backend.DisposeAsync();

        backend = new EngineBackend(options);
        await backend.ConnectAsync();
        var s = (await backend.GetSessionAsync("s0"))!;
        var other = (await backend.GetSessionAsync("s1"))!;
        await other.GetMessagesAsync(); // s1's entries loaded, so its read fails on the segment instead
        fs.Kill(); // every later file call fails, as a dead disk would
        await Assert.ThrowsAsync<StorageFailureException>(() => s.GetMessagesAsync());
        await Assert.ThrowsAsync<StorageFailureException>(() => other.GetMessagesAsync());
        backend.Abandon();
    }
}
