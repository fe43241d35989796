using System.Text;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Log;
using LangSwarm.MemoryEngine.Testing;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>
/// Pack files (FORMAT.md §5.3, §10): a vacuum moves small idle sessions into shared packs and deletes their own
/// files; packed sessions read, write (into a file of their own again), delete (their bytes erased), survive
/// reopens clean and unclean and a rebuild of the index from the files, and sparse packs are regrouped.
/// </summary>
public sealed class PackTests
{
    private static EngineOptions Options(string path, long below = 64 * 1024) => new()
    {
        Path = path,
        Durability = DurabilityMode.None,
        PackSessionsBelowBytes = below,
        PackSessionsIdleFor = TimeSpan.Zero,
        VacuumPause = TimeSpan.Zero,
    };

    private static async Task<EngineBackend> OpenAsync(EngineOptions options)
    {
        var backend = new EngineBackend(options);
        await backend.ConnectAsync();
        return backend;
    }

    private static async Task<Dictionary<string, List<string>>> FillAsync(EngineBackend backend, int sessions, int messages, string prefix = "s")
    {
        var expected = new Dictionary<string, List<string>>();
        for (var k = 0; k < sessions; k++)
        {
            var id = $"{prefix}{k}";
            var s = await backend.CreateSessionAsync(new SessionMetadata(id, $"user{k % 3}") { SummaryStrategy = SummaryStrategy.Manual });
            var texts = Enumerable.Range(0, messages).Select(i => i % 2 == 0 ? $"{id} says {i}" : $"{id} long reply {i} " + new string((char)('a' + (i % 26)), 200)).ToList();
            await s.AddMessagesAsync(texts.Select((t, i) => new Message(i % 2 == 0 ? MessageRole.User : MessageRole.Assistant, t) { TokenCount = 7 }));
            expected[id] = texts;
        }
        return expected;
    }

    private static async Task AssertHoldsAsync(EngineBackend backend, Dictionary<string, List<string>> expected)
    {
        foreach (var (id, texts) in expected)
        {
            var session = await backend.GetSessionAsync(id);
            Assert.NotNull(session);
            Assert.Equal(texts, (await session!.GetMessagesAsync()).Select(m => m.Content));
        }
        var stats = await backend.GetUsageStatsAsync();
        Assert.Equal(expected.Count, stats.TotalSessions);
        Assert.Equal(expected.Values.Sum(t => t.Count), stats.TotalMessages);
    }

    private static int Files(string store, string directory) =>
        Directory.Exists(Path.Combine(store, directory)) ? Directory.GetFiles(Path.Combine(store, directory)).Length : 0;

    [Fact]
    public async Task Vacuum_PacksSmallIdleSessions_IntoOneFile_AndTheyReadTheSame()
    {
        using var dir = new TempStore();
        var backend = await OpenAsync(Options(dir.Path));
        var expected = await FillAsync(backend, 60, 6);
        var big = await backend.CreateSessionAsync(new SessionMetadata("big", "u") { SummaryStrategy = SummaryStrategy.Manual });
        var rnd = new Random(5);
        var bigTexts = Enumerable.Range(0, 400).Select(i => $"big {i} " + string.Concat(Enumerable.Range(0, 300).Select(_ => (char)rnd.Next('a', 'z' + 1)))).ToList();
        await big.AddMessagesAsync(bigTexts.Select(t => new Message(MessageRole.User, t) { TokenCount = 3 }));
        expected["big"] = bigTexts;
        Assert.Equal(61, Files(dir.Path, SegmentFiles.Directory));

        var report = await backend.VacuumAsync(0.5);
        Assert.Equal(60, report.SessionsPacked);
        Assert.Equal(1, Files(dir.Path, SegmentFiles.Directory)); // only the large session keeps a file of its own
        Assert.Equal(1, Files(dir.Path, PackFiles.Directory));
        await AssertHoldsAsync(backend, expected);
        var verify = await backend.VerifyAsync();
        Assert.True(verify.Ok);
        Assert.Equal((1, 1), (verify.Segments, verify.Packs));
        var stats = await backend.GetUsageStatsAsync();
        Assert.Equal(1, (int)stats.Extra["packs"]!);
        Assert.Equal(0L, (long)stats.Extra["cold_sessions"]!); // packed in the cold form, but cold means archived and compacted
        Assert.Equal(0, (await backend.VacuumAsync(0.5)).SessionsPacked); // nothing left to pack

        await backend.DisposeAsync();
        backend = await OpenAsync(Options(dir.Path));
        Assert.True(backend.Recovery!.CheckpointLoaded);
        await AssertHoldsAsync(backend, expected);
        Assert.True((await backend.VerifyAsync()).Ok);
        await backend.DisposeAsync();
    }

    [Fact]
    public async Task APackedSessionWrittenAgain_GetsAFileOfItsOwn_AndKeepsEverything_ThroughACrashAndARebuild()
    {
        var fs = new FaultInjectingFileSystem();
        var options = Options("store") with { FileSystem = fs };
        int Count(string directory) => fs.ListFiles(directory).Count;
        var backend = await OpenAsync(options);
        var expected = await FillAsync(backend, 10, 4);
        Assert.Equal(10, (await backend.VacuumAsync(0.5)).SessionsPacked);
        Assert.Equal(0, Count(SegmentFiles.Directory));

        var s3 = (await backend.GetSessionAsync("s3"))!;
        await s3.AddMessageAsync(new Message(MessageRole.User, "after the pack") { TokenCount = 2 });
        expected["s3"].Add("after the pack");
        Assert.Equal(1, Count(SegmentFiles.Directory));
        await AssertHoldsAsync(backend, expected);

        // The process is killed: the open replays the log into the session's new segment.
        fs.Kill();
        backend.Abandon();
        fs.ProcessDied();
        backend = await OpenAsync(options);
        await AssertHoldsAsync(backend, expected);
        await backend.Engine.OpenWorkCompletion;
        Assert.True((await backend.VerifyAsync()).Ok);
        await (await backend.GetSessionAsync("s3"))!.AddMessageAsync(new Message(MessageRole.Assistant, "and again") { TokenCount = 2 });
        expected["s3"].Add("and again");
        await backend.DisposeAsync();

        // Without the index file, the packs and the segments rebuild the same store.
        fs.Delete(IndexFile.FileName);
        backend = await OpenAsync(options);
        Assert.False(backend.Recovery!.CheckpointLoaded);
        Assert.Empty(backend.Recovery.Damage);
        await AssertHoldsAsync(backend, expected);
        Assert.True((await backend.VerifyAsync()).Ok);

        // Packed again once idle: the mixed session folds back into one group of a new pack.
        var report = await backend.VacuumAsync(0.5);
        Assert.Equal(1, report.SessionsPacked);
        Assert.Equal(0, Count(SegmentFiles.Directory));
        await AssertHoldsAsync(backend, expected);
        await backend.DisposeAsync();
        backend = await OpenAsync(options);
        await AssertHoldsAsync(backend, expected);
        Assert.True((await backend.VerifyAsync()).Ok);
        await backend.DisposeAsync();
    }

    [Fact]
    public async Task DeletingAPackedSession_ErasesItsBytes_AndARebuildDoesNotBringItBack()
    {
        using var dir = new TempStore();
        var backend = await OpenAsync(Options(dir.Path));
        var expected = await FillAsync(backend, 8, 2);
        var secret = await backend.CreateSessionAsync(new SessionMetadata("secret", "u") { SummaryStrategy = SummaryStrategy.Manual });
        await secret.AddMessageAsync(new Message(MessageRole.User, "my pin is 90210") { TokenCount = 2 });
        Assert.Equal(9, (await backend.VacuumAsync(0.5)).SessionsPacked);
        var pack = Directory.GetFiles(Path.Combine(dir.Path, PackFiles.Directory)).Single();
        Assert.Contains("my pin is 90210", Encoding.UTF8.GetString(File.ReadAllBytes(pack)), StringComparison.Ordinal);

        Assert.True(await backend.DeleteSessionAsync("secret"));
        await backend.Engine.CheckpointAsync(); // the commit after which the bytes are erased
        Assert.DoesNotContain("my pin is 90210", Encoding.UTF8.GetString(File.ReadAllBytes(pack)), StringComparison.Ordinal);
        Assert.DoesNotContain("secret", Encoding.UTF8.GetString(File.ReadAllBytes(pack)), StringComparison.Ordinal);
        await AssertHoldsAsync(backend, expected);
        Assert.True((await backend.VerifyAsync()).Ok);
        await backend.DisposeAsync();

        File.Delete(Path.Combine(dir.Path, IndexFile.FileName));
        backend = await OpenAsync(Options(dir.Path));
        Assert.Null(await backend.GetSessionAsync("secret"));
        await AssertHoldsAsync(backend, expected);
        Assert.Empty(backend.Recovery!.Damage); // erased bytes are not damage
        await backend.DisposeAsync();
    }

    [Fact]
    public async Task ASparsePack_IsRegrouped_AndItsFileDeleted()
    {
        using var dir = new TempStore();
        var backend = await OpenAsync(Options(dir.Path));
        var expected = await FillAsync(backend, 20, 4);
        Assert.Equal(20, (await backend.VacuumAsync(0.5)).SessionsPacked);
        var first = Directory.GetFiles(Path.Combine(dir.Path, PackFiles.Directory)).Single();
        for (var k = 0; k < 15; k++)
        {
            Assert.True(await backend.DeleteSessionAsync($"s{k}"));
            expected.Remove($"s{k}");
        }
        var report = await backend.VacuumAsync(0.5);
        Assert.Equal(5, report.SessionsPacked);
        Assert.False(File.Exists(first));
        Assert.Equal(1, Files(dir.Path, PackFiles.Directory));
        await AssertHoldsAsync(backend, expected);
        Assert.True((await backend.VerifyAsync()).Ok);
        await backend.DisposeAsync();
        backend = await OpenAsync(Options(dir.Path));
        await AssertHoldsAsync(backend, expected);
        Assert.True((await backend.VerifyAsync()).Ok);
        await backend.DisposeAsync();
    }

    [Fact]
    public async Task Packing_FillsPacksUpToTheSegmentSize_AndLeavesBusyOrLargeSessionsAlone()
    {
        using var dir = new TempStore();
        var options = Options(dir.Path, below: 4 * 1024) with { SegmentMaxBytes = 16 * 1024 };
        var backend = await OpenAsync(options);
        var expected = await FillAsync(backend, 40, 6);
        var large = await FillAsync(backend, 2, 60, "large");
        var report = await backend.VacuumAsync(0.5);
        Assert.Equal(40, report.SessionsPacked);
        Assert.Equal(2, Files(dir.Path, SegmentFiles.Directory));
        Assert.InRange(Files(dir.Path, PackFiles.Directory), 3, 12);
        foreach (var f in Directory.GetFiles(Path.Combine(dir.Path, PackFiles.Directory)))
        {
            Assert.True(new FileInfo(f).Length <= 16 * 1024 + 4096, $"{f}: {new FileInfo(f).Length} bytes");
        }
        foreach (var (id, texts) in large)
        {
            expected[id] = texts;
        }
        await AssertHoldsAsync(backend, expected);
        await backend.DisposeAsync();

        // With the default idle time nothing written a moment ago is packed.
        using var fresh = new TempStore();
        backend = await OpenAsync(new EngineOptions { Path = fresh.Path, Durability = DurabilityMode.None });
        await FillAsync(backend, 5, 3);
        Assert.Equal(0, (await backend.VacuumAsync(0.5)).SessionsPacked);
        await backend.DisposeAsync();
    }
}
