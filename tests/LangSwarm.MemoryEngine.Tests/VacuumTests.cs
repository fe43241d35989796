using LangSwarm.Memory;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>Compaction: dead records go, cold archives are packed with LZ4 HC, everything stays readable and survives reopen.</summary>
public sealed class VacuumTests
{
    [Fact]
    public async Task Vacuum_DropsEvictedMessages_AndKeepsTheLiveWindow()
    {
        using var dir = new TempStore();
        var backend = new EngineBackend(dir.Path, DurabilityMode.None);
        await backend.ConnectAsync();
        var s = await backend.CreateSessionAsync(new SessionMetadata("evicting", "u") { MaxMessages = 50, EvictionLowWater = 1.0, SummaryStrategy = SummaryStrategy.Manual });
        var text = string.Join(' ', Enumerable.Range(0, 80).Select(i => $"word{i * 7919 % 1000}"));
        for (var i = 0; i < 1000; i++)
        {
            await s.AddMessageAsync(new Message(MessageRole.User, $"{i} {text}") { TokenCount = 5 });
        }
        var before = await backend.GetUsageStatsAsync();
        Assert.True((long)before.Extra["dead_bytes"]! > 0);
        var expected = (await s.GetMessagesAsync()).Select(m => m.Content).ToList();
        Assert.Equal(50, expected.Count);

        var report = await backend.VacuumAsync(0.25);
        Assert.Equal(1, report.SessionsRewritten);
        Assert.True(report.BytesAfter < report.BytesBefore / 5, $"{report.BytesBefore} -> {report.BytesAfter}");
        Assert.Equal(expected, (await s.GetMessagesAsync()).Select(m => m.Content));
        var after = await backend.GetUsageStatsAsync();
        Assert.Equal(0L, (long)after.Extra["dead_bytes"]!);
        Assert.Equal(report.BytesReclaimed, (long)after.Extra["last_vacuum_bytes_reclaimed"]!);
        Assert.NotNull(after.Extra["last_vacuum"]);
        Assert.True((await backend.VerifyAsync()).Ok);

        // Writes continue after the rewrite, and a reopen sees the compacted session whole.
        await s.AddMessageAsync(new Message(MessageRole.Assistant, "after vacuum") { TokenCount = 5 });
        await backend.DisposeAsync();
        var reopened = new EngineBackend(dir.Path);
        await reopened.ConnectAsync();
        var got = (await (await reopened.GetSessionAsync("evicting"))!.GetMessagesAsync()).Select(m => m.Content).ToList();
        Assert.Equal(expected.Skip(1).Append("after vacuum"), got);
        Assert.True((await reopened.VerifyAsync()).Ok);
        await reopened.DisposeAsync();
    }

    [Fact]
    public async Task Vacuum_WhileTheSameSessionsTakeWrites_LosesNothing()
    {
        using var dir = new TempStore();
        var backend = new EngineBackend(new EngineOptions { Path = dir.Path, Durability = DurabilityMode.None, SegmentMaxBytes = 64 * 1024 });
        await backend.ConnectAsync();
        var sessions = new List<IMemorySession>();
        for (var k = 0; k < 4; k++)
        {
            var s = await backend.CreateSessionAsync(new SessionMetadata($"busy-{k}", "u") { MaxMessages = 30, EvictionLowWater = 1.0, SummaryStrategy = SummaryStrategy.Manual });
            await s.AddMessagesAsync(Enumerable.Range(0, 300).Select(i => new Message(MessageRole.User, $"old {i} " + new string('q', 400)) { TokenCount = 5 }));
            sessions.Add(s);
        }
        // Writers add a fixed number of messages to the very sessions the vacuums rewrite.
        var writers = sessions.Select(s => Task.Run(async () =>
        {
            const int N = 1500;
            for (var n = 0; n < N; n++)
            {
                await s.AddMessageAsync(new Message(MessageRole.User, $"new {n} " + new string('w', 200)) { TokenCount = 5 });
            }
            return N;
        })).ToList();
        var passes = 0;
        while (!writers.All(w => w.IsCompleted) || passes == 0)
        {
            await backend.VacuumAsync(0.0);
            passes++;
        }
        var written = await Task.WhenAll(writers);
        foreach (var (s, n) in sessions.Zip(written))
        {
            var live = (await s.GetMessagesAsync()).Select(m => m.Content[..m.Content.IndexOf(' ', 4)]).ToList();
            Assert.Equal(Enumerable.Range(n - 30, 30).Select(i => $"new {i}"), live);
        }
        Assert.True((await backend.VerifyAsync()).Ok);
        await backend.DisposeAsync();
        var reopened = new EngineBackend(dir.Path);
        await reopened.ConnectAsync();
        Assert.True((await reopened.VerifyAsync()).Ok);
        foreach (var (s, n) in sessions.Zip(written))
        {
            var live = (await (await reopened.GetSessionAsync(s.SessionId))!.GetMessagesAsync()).Select(m => m.Content[..m.Content.IndexOf(' ', 4)]).ToList();
            Assert.Equal(Enumerable.Range(n - 30, 30).Select(i => $"new {i}"), live);
        }
        await reopened.DisposeAsync();
    }

    [Fact]
    public async Task BackgroundVacuum_ReclaimsDeadBytesByItself_AndStopsOnClose()
    {
        using var dir = new TempStore();
        var options = new EngineOptions
        {
            Path = dir.Path,
            Durability = DurabilityMode.None,
            AutoVacuumDeadFraction = 0.5,
            AutoVacuumInterval = TimeSpan.FromMilliseconds(20),
        };
        var backend = new EngineBackend(options);
        await backend.ConnectAsync();
        var s = await backend.CreateSessionAsync(new SessionMetadata("auto", "u") { MaxMessages = 10, EvictionLowWater = 1.0, SummaryStrategy = SummaryStrategy.Manual });
        await s.AddMessagesAsync(Enumerable.Range(0, 200).Select(i => new Message(MessageRole.User, $"m{i} " + new string('z', 300)) { TokenCount = 5 }));
        await s.AddMessageAsync(new Message(MessageRole.User, "last") { TokenCount = 5 });
        var deadline = DateTime.UtcNow.AddSeconds(10);
        long dead;
        while ((dead = (long)(await backend.GetUsageStatsAsync()).Extra["dead_bytes"]!) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        Assert.Equal(0, dead);
        Assert.Equal("last", (await s.GetMessagesAsync()).Last().Content);
        Assert.Equal(10, (await s.GetMessagesAsync()).Count);
        await backend.DisposeAsync(); // stops the background vacuum
        var reopened = new EngineBackend(dir.Path);
        await reopened.ConnectAsync();
        Assert.Equal(10, (await (await reopened.GetSessionAsync("auto"))!.GetMessagesAsync()).Count);
        Assert.True((await reopened.VerifyAsync()).Ok);
        await reopened.DisposeAsync();
    }

    [Fact]
    public async Task Vacuum_PacksArchivedSessionsCold_AndTheyStayReadable()
    {
        using var dir = new TempStore();
        var backend = new EngineBackend(dir.Path, DurabilityMode.None);
        await backend.ConnectAsync();
        var s = await backend.CreateSessionAsync(new SessionMetadata("old-chat", "u") { SummaryStrategy = SummaryStrategy.Manual });
        var rnd = new Random(3);
        var sent = new List<string>();
        for (var i = 0; i < 300; i++)
        {
            var words = string.Join(' ', Enumerable.Range(0, 60).Select(_ => $"term{rnd.Next(300)}"));
            sent.Add(words);
            await s.AddMessageAsync(new Message(i % 2 == 0 ? MessageRole.User : MessageRole.Assistant, words) { TokenCount = 40 });
        }
        await s.CreateSummaryAsync();
        await s.ArchiveSessionAsync();
        var warm = (await backend.GetUsageStatsAsync()).StorageBytes;

        var report = await backend.VacuumAsync();
        Assert.Equal(1, report.SessionsRewritten);
        var stats = await backend.GetUsageStatsAsync();
        Assert.Equal(1L, (long)stats.Extra["cold_sessions"]!);
        Assert.True(stats.StorageBytes < warm, $"cold {stats.StorageBytes} vs warm {warm}");
        Assert.Equal(sent, (await s.GetMessagesAsync()).Select(m => m.Content));
        Assert.Single(await s.GetSummariesAsync());
        Assert.Equal(SessionStatus.Archived, (await backend.GetSessionAsync("old-chat"))!.Metadata.Status);
        Assert.Equal(0, (await backend.VacuumAsync()).SessionsRewritten); // already cold

        await backend.DisposeAsync();
        var reopened = new EngineBackend(dir.Path);
        await reopened.ConnectAsync();
        Assert.Equal(sent, (await (await reopened.GetSessionAsync("old-chat"))!.GetMessagesAsync()).Select(m => m.Content));
        Assert.True((await reopened.VerifyAsync()).Ok);
        await reopened.DisposeAsync();
    }

    [Fact]
    public async Task DeletingHalf_ThenVacuum_LeavesAboutTheSpaceOfTheOtherHalf()
    {
        using var full = new TempStore();
        using var half = new TempStore();
        async Task<long> Fill(string path, bool deleteOdd)
        {
            var b = new EngineBackend(path, DurabilityMode.None);
            await b.ConnectAsync();
            for (var k = 0; k < 40; k++)
            {
                if (!deleteOdd && k % 2 == 1)
                {
                    continue;
                }
                var s = await b.CreateSessionAsync(new SessionMetadata($"s{k}", "u") { SummaryStrategy = SummaryStrategy.Manual });
                await s.AddMessagesAsync(Enumerable.Range(0, 50).Select(i => new Message(MessageRole.User, $"session {k} message {i} " + new string((char)('a' + (i % 26)), 300)) { TokenCount = 80 }));
            }
            if (deleteOdd)
            {
                for (var k = 1; k < 40; k += 2)
                {
                    Assert.True(await b.DeleteSessionAsync($"s{k}"));
                }
                await b.VacuumAsync();
            }
            await b.DisposeAsync();
            return Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        }
        var afterDelete = await Fill(full.Path, deleteOdd: true);
        var onlyHalf = await Fill(half.Path, deleteOdd: false);
        Assert.True(afterDelete <= onlyHalf * 1.10, $"after delete+vacuum {afterDelete} B vs a store of only the other half {onlyHalf} B");
    }
}
