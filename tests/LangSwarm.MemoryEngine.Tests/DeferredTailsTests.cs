using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Log;
using LangSwarm.MemoryEngine.Testing;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>
/// An unclean open places the log's records in their sessions' segments without touching those files, and
/// writes them after the open (FORMAT.md §8 step 3a): across segment rolls, for new and packed sessions, over
/// a torn tail, through a delete, and through a crash before the writing ends.
/// </summary>
public sealed class DeferredTailsTests
{
    private static EngineOptions Options(IFileSystem fs) => new()
    {
        Path = "store",
        FileSystem = fs,
        Durability = DurabilityMode.Strict,
        SegmentMaxBytes = 2048,
        AutoVacuumDeadFraction = null,
        PackSessionsBelowBytes = 64 * 1024,
        PackSessionsIdleFor = TimeSpan.Zero,
        VacuumPause = TimeSpan.Zero,
    };

    private static async Task<EngineBackend> OpenAsync(IFileSystem fs)
    {
        var b = new EngineBackend(Options(fs), new CrashHarness.FixedTokenCounter());
        await b.ConnectAsync();
        return b;
    }

    private static Message Msg(string id, int i) => new(MessageRole.User, $"{id} message {i} " + new string((char)('a' + (i % 26)), 150 + (i % 7 * 30))) { TokenCount = 3 };

    private static SessionMetadata Manual(string id) => new(id, "u") { SummaryStrategy = SummaryStrategy.Manual };

    private static void Kill(FaultInjectingFileSystem fs, EngineBackend b)
    {
        fs.Kill();
        b.Abandon();
        fs.ProcessDied();
    }

    private static async Task AddAsync(EngineBackend b, Dictionary<string, List<string>> expected, string id, int from, int count)
    {
        var s = await b.GetSessionAsync(id) ?? await b.CreateSessionAsync(Manual(id));
        expected.TryAdd(id, []);
        for (var i = from; i < from + count; i++)
        {
            var m = Msg(id, i);
            await s.AddMessageAsync(m);
            expected[id].Add(m.Content);
        }
    }

    private static async Task AssertHoldsAsync(EngineBackend b, Dictionary<string, List<string>> expected)
    {
        foreach (var (id, texts) in expected)
        {
            var s = await b.GetSessionAsync(id);
            Assert.NotNull(s);
            Assert.Equal(texts, (await s!.GetMessagesAsync()).Select(m => m.Content));
        }
        Assert.Equal(expected.Count, (await b.ListSessionsAsync(limit: 1000)).Count);
    }

    /// <summary>
    /// A store killed after a checkpoint with, in its log: appends that roll segments, new sessions, a packed
    /// session written again, and a session created and deleted.
    /// </summary>
    private static async Task<(FaultInjectingFileSystem Fs, Dictionary<string, List<string>> Expected)> KilledAsync()
    {
        var fs = new FaultInjectingFileSystem();
        var b = await OpenAsync(fs);
        var expected = new Dictionary<string, List<string>>();
        await AddAsync(b, expected, "long", 0, 12);
        await AddAsync(b, expected, "packed", 0, 3);
        await b.VacuumAsync();
        Assert.True(fs.ListFiles(PackFiles.Directory).Count > 0, "the vacuum packed the small sessions");
        await AddAsync(b, expected, "long", 12, 3);
        await b.CheckpointAsync();

        await AddAsync(b, expected, "long", 15, 25); // rolls past 2 KiB segments several times
        await AddAsync(b, expected, "packed", 3, 4); // a packed session's own segments again
        for (var k = 0; k < 5; k++)
        {
            await AddAsync(b, expected, $"new{k}", 0, 2 + k);
        }
        await AddAsync(b, [], "gone", 0, 3);
        Assert.True(await b.DeleteSessionAsync("gone"));
        Kill(fs, b);
        return (fs, expected);
    }

    [Fact]
    public async Task UncleanOpen_ReadsNoSegment_AndEveryRecordIsThere()
    {
        var (fs, expected) = await KilledAsync();
        var r = await OpenAsync(fs);
        var recovery = r.Recovery!;
        Assert.False(recovery.SegmentsListed);
        Assert.Equal(0, recovery.SegmentFilesRead);
        Assert.True(recovery.SessionsDeferred >= 7, $"{recovery.SessionsDeferred} sessions deferred");
        // Read before the background writing is awaited: each session settles its own debt first.
        await AssertHoldsAsync(r, expected);
        await r.Engine.OpenWorkCompletion;
        var report = await r.VerifyAsync();
        Assert.True(report.Ok, string.Join("; ", report.Problems));
        await AddAsync(r, expected, "long", 40, 5);
        await r.DisposeAsync();

        var again = await OpenAsync(fs);
        await AssertHoldsAsync(again, expected);
        Assert.True((await again.VerifyAsync()).Ok);
        await again.DisposeAsync();
    }

    [Fact]
    public async Task UncleanOpen_WritesAfterTheOpen_BeforeTheSettleEnds()
    {
        var (fs, expected) = await KilledAsync();
        var r = await OpenAsync(fs);
        // Writes at once, into sessions whose records are still owed: each settles first, then appends.
        await AddAsync(r, expected, "long", 40, 3);
        await AddAsync(r, expected, "new0", 2, 2);
        await AddAsync(r, expected, "packed", 7, 1);
        await AssertHoldsAsync(r, expected);
        await r.Engine.OpenWorkCompletion;
        Assert.True((await r.VerifyAsync()).Ok);
        await r.DisposeAsync();
    }

    [Fact]
    public async Task CrashBeforeTheOwedRecordsAreWritten_TheNextOpenPlacesThemAgain()
    {
        var (fs, expected) = await KilledAsync();
        for (var round = 0; round < 3; round++)
        {
            var r = await OpenAsync(fs);
            Assert.Equal(0, r.Recovery!.SegmentFilesRead);
            if (round == 1)
            {
                // Half written: one session settled by a read, the rest not.
                Assert.Equal(expected["long"], (await (await r.GetSessionAsync("long"))!.GetMessagesAsync()).Select(m => m.Content));
            }
            Kill(fs, r);
        }
        var last = await OpenAsync(fs);
        await AssertHoldsAsync(last, expected);
        await last.Engine.OpenWorkCompletion;
        Assert.True((await last.VerifyAsync()).Ok);
        await last.DisposeAsync();
    }

    [Fact]
    public async Task ATornTailPastTheCheckpoint_IsCutWhenTheRecordsAreWritten()
    {
        var (fs, expected) = await KilledAsync();
        // Garbage past what the segments hold: a torn write the log never acknowledged.
        foreach (var (name, length) in fs.ListFiles(SegmentFiles.Directory))
        {
            using var f = fs.Open($"{SegmentFiles.Directory}/{name}", create: false);
            f.Write(length, new byte[] { 0x4C, 0x53, 0x99, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 });
        }
        var r = await OpenAsync(fs);
        await AssertHoldsAsync(r, expected);
        await r.Engine.OpenWorkCompletion;
        var report = await r.VerifyAsync();
        Assert.True(report.Ok, string.Join("; ", report.Problems));
        await r.DisposeAsync();
    }
}
