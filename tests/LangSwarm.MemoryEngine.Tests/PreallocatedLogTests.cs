using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Device;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Log;
using LangSwarm.MemoryEngine.Testing;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>
/// The Strict log grows in zero-filled chunks (FORMAT.md §5.2): the zeros after its last record are padding to
/// recovery, never a torn tail or damage, and acknowledged records are all found in front of them.
/// </summary>
public sealed class PreallocatedLogTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "lsmem-prealloc-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public void StrictLog_GrowsInZeroFilledChunks_AheadOfItsRecords()
    {
        var fs = new PhysicalFileSystem(_dir);
        fs.CreateDirectory(CommitLog.Directory);
        var log = new LogFile(fs, 1, 0, GroupCommitLog.PreallocateChunk);
        var record = new byte[3000];
        Random.Shared.NextBytes(record);
        for (var i = 0; i < 400; i++)
        {
            log.Append(record);
        }
        var records = FileHeader.Size + 400L * record.Length;
        Assert.Equal(records, log.Length);
        Assert.Equal(2L * GroupCommitLog.PreallocateChunk, log.File.Length); // 1.2 MB of records: two chunks
        Assert.True(LogFile.IsPadding(log.File, records, log.File.Length));
        Assert.False(LogFile.IsPadding(log.File, records - 1, log.File.Length));
        log.Close(sync: true);
    }

    [Fact]
    public async Task StoreStatistics_CountThePreallocatedLog_AsTheDiskHoldsIt()
    {
        var store = Path.Combine(_dir, "stats");
        await using var backend = new EngineBackend(new EngineOptions { Path = store, Durability = DurabilityMode.Strict, CheckpointLogBytes = 1 << 30 });
        await backend.ConnectAsync();
        var session = await backend.CreateSessionAsync(new SessionMetadata("s", "u") { SummaryStrategy = SummaryStrategy.Manual });
        await session.AddMessageAsync(new Message(MessageRole.User, "hello") { TokenCount = 1 });
        var log = Assert.Single(Directory.GetFiles(Path.Combine(store, CommitLog.Directory)));
        var onDisk = new FileInfo(log).Length;
        Assert.Equal(GroupCommitLog.PreallocateChunk, onDisk);
        var stats = await backend.GetUsageStatsAsync();
        Assert.True(stats.StorageBytes >= onDisk, $"storage {stats.StorageBytes:N0} bytes, the log alone {onDisk:N0}");
        Assert.True((long)stats.Extra["log_bytes"]! < onDisk); // the records, without the zeros ahead of them
    }

    [Theory]
    [InlineData(DurabilityMode.Strict)]
    [InlineData(DurabilityMode.None)]
    public async Task AKilledWriter_LeavesPaddingThatRecoveryTakesForNeitherTornNorDamage(DurabilityMode mode)
    {
        var copy = Path.Combine(_dir, "copy");
        var store = Path.Combine(_dir, "store");
        await using (var backend = new EngineBackend(new EngineOptions { Path = store, Durability = mode, CheckpointLogBytes = 1 << 30 }))
        {
            await backend.ConnectAsync();
            var session = await backend.CreateSessionAsync(new SessionMetadata("s", "u") { SummaryStrategy = SummaryStrategy.Manual });
            for (var i = 0; i < 300; i++)
            {
                await session.AddMessageAsync(new Message(MessageRole.User, $"message {i} " + new string('x', 500)) { TokenCount = 3 });
            }
            backend.Abandon(); // as a killed process leaves it: no checkpoint, the log holds the adds
            foreach (var file in Directory.EnumerateFiles(store, "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(f) != "LOCK"))
            {
                var to = Path.Combine(copy, Path.GetRelativePath(store, file));
                Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                File.Copy(file, to);
            }
        }

        var log = Assert.Single(Directory.GetFiles(Path.Combine(copy, CommitLog.Directory)));
        if (mode == DurabilityMode.Strict)
        {
            Assert.Equal(0, new FileInfo(log).Length % GroupCommitLog.PreallocateChunk);
        }

        await using var reopened = new EngineBackend(new EngineOptions { Path = copy, Durability = mode });
        await reopened.ConnectAsync();
        var recovery = reopened.Recovery!;
        Assert.Equal(0, recovery.TornBytesCut);
        Assert.Empty(recovery.Damage);
        Assert.True(recovery.LogRecordsReplayed >= 300, $"{recovery.LogRecordsReplayed} log records replayed");
        var messages = await (await reopened.GetSessionAsync("s"))!.GetMessagesAsync();
        Assert.Equal(300, messages.Count);
        Assert.StartsWith("message 299 ", messages[^1].Content);
    }

    [Fact]
    public async Task ACrashAtAnyOperation_OfAPreallocatingStrictWriter_LosesNoAcknowledgedAdd()
    {
        for (var crashAt = 1; crashAt < 400; crashAt += 7)
        {
            var fs = new FaultInjectingFileSystem();
            var options = new EngineOptions { Path = "store", FileSystem = fs, Durability = DurabilityMode.Strict, CheckpointLogBytes = 1 << 30 };
            var backend = new EngineBackend(options);
            await backend.ConnectAsync();
            var session = await backend.CreateSessionAsync(new SessionMetadata("s", "u") { SummaryStrategy = SummaryStrategy.Manual });
            fs.CrashAfterOperations = fs.Operations + crashAt;
            var acknowledged = 0;
            try
            {
                for (var i = 0; i < 100; i++)
                {
                    await session.AddMessageAsync(new Message(MessageRole.User, $"m{i}") { TokenCount = 1 });
                    acknowledged++;
                }
            }
            catch (Exception ex) when (ex is MemoryException or IOException)
            {
            }
            fs.Kill();
            backend.Abandon();
            fs.Crash(new Random(crashAt));

            await using var reopened = new EngineBackend(options);
            await reopened.ConnectAsync();
            var texts = (await (await reopened.GetSessionAsync("s"))!.GetMessagesAsync()).Select(m => m.Content).ToList();
            Assert.True(texts.Count >= acknowledged, $"crash at {crashAt}: {texts.Count} found, {acknowledged} acknowledged");
            Assert.Equal(Enumerable.Range(0, texts.Count).Select(i => $"m{i}"), texts);
            Assert.Empty(reopened.Recovery!.Damage);
        }
    }
}
