using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Compaction;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>The idle trigger of the background vacuum: its schedule on made-up times, then a real store.</summary>
public sealed class AutoVacuumIdleTests
{
    private static TimeSpan Ms(int ms) => TimeSpan.FromMilliseconds(ms);

    [Fact]
    public void Schedule_WithoutIdle_IsDueAtEveryWake_OneWakePerInterval()
    {
        var s = new AutoVacuumSchedule(Ms(1000), null, 0, TimeSpan.Zero);
        Assert.Equal(Ms(1000), s.Poll);
        Assert.True(s.IsDue(5, Ms(1000)));
        Assert.True(s.IsDue(9, Ms(2000)));
    }

    [Fact]
    public void Schedule_WithIdle_WaitsForAQuietSpell_RunsOncePerSpell()
    {
        var s = new AutoVacuumSchedule(Timeout.InfiniteTimeSpan, Ms(400), 0, TimeSpan.Zero);
        Assert.Equal(Ms(100), s.Poll);
        long writes = 0;
        var now = TimeSpan.Zero;
        // Writes between every wake: never quiet, and no interval to fall back on.
        for (var i = 0; i < 100; i++)
        {
            now += s.Poll;
            Assert.False(s.IsDue(++writes, now));
        }
        // The writes stop at the last wake; the spell counts from there.
        var quietFrom = now;
        while (now - quietFrom < Ms(400))
        {
            Assert.False(s.IsDue(writes, now));
            now += s.Poll;
        }
        Assert.True(s.IsDue(writes, now));
        for (var i = 0; i < 50; i++)
        {
            now += s.Poll;
            Assert.False(s.IsDue(writes, now)); // still the same spell: already ran
        }
        now += s.Poll;
        Assert.False(s.IsDue(++writes, now)); // a write ends the spell ...
        now += Ms(400);
        Assert.True(s.IsDue(writes, now)); // ... and the next one runs again
    }

    [Fact]
    public void Schedule_WithIdleAndInterval_StillRunsUnderConstantWrites()
    {
        var s = new AutoVacuumSchedule(Ms(1000), Ms(400), 0, TimeSpan.Zero);
        long writes = 0;
        var due = new List<TimeSpan>();
        for (var now = Ms(100); now <= Ms(3000); now += Ms(100))
        {
            if (s.IsDue(++writes, now))
            {
                due.Add(now);
            }
        }
        Assert.Equal([Ms(1000), Ms(2000), Ms(3000)], due);
    }

    [Fact]
    public void Schedule_PollsNoSlowerThanTheInterval_NorFasterThanAMillisecond()
    {
        Assert.Equal(Ms(50), new AutoVacuumSchedule(Ms(50), Ms(400), 0, TimeSpan.Zero).Poll);
        Assert.Equal(Ms(1), new AutoVacuumSchedule(Timeout.InfiniteTimeSpan, TimeSpan.FromTicks(10), 0, TimeSpan.Zero).Poll);
    }

    [Fact]
    public async Task BackgroundVacuum_OnIdleOnly_CompactsOnceWritesStop()
    {
        using var dir = new TempStore();
        var backend = new EngineBackend(new EngineOptions
        {
            Path = dir.Path,
            Durability = DurabilityMode.None,
            AutoVacuumDeadFraction = 0.5,
            AutoVacuumInterval = Timeout.InfiniteTimeSpan,
            AutoVacuumWhenIdleFor = Ms(40),
        });
        await backend.ConnectAsync();
        var s = await backend.CreateSessionAsync(new SessionMetadata("idle", "u") { MaxMessages = 10, EvictionLowWater = 1.0, SummaryStrategy = SummaryStrategy.Manual });
        await s.AddMessagesAsync(Enumerable.Range(0, 200).Select(i => new Message(MessageRole.User, $"m{i} " + new string('z', 300)) { TokenCount = 5 }));
        await s.AddMessageAsync(new Message(MessageRole.User, "last") { TokenCount = 5 });

        var deadline = DateTime.UtcNow.AddSeconds(10);
        long dead;
        while ((dead = (long)(await backend.GetUsageStatsAsync()).Extra["dead_bytes"]!) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }
        Assert.Equal(0, dead);
        Assert.Equal(10, (await s.GetMessagesAsync()).Count);
        await backend.DisposeAsync(); // stops the background vacuum
        var reopened = new EngineBackend(dir.Path);
        await reopened.ConnectAsync();
        Assert.Equal("last", (await (await reopened.GetSessionAsync("idle"))!.GetMessagesAsync()).Last().Content);
        Assert.True((await reopened.VerifyAsync()).Ok);
        await reopened.DisposeAsync();
    }

    [Fact]
    public async Task BackgroundVacuum_WaitsForTheIdleTime_BeforeItRuns()
    {
        using var dir = new TempStore();
        await using var backend = new EngineBackend(new EngineOptions
        {
            Path = dir.Path,
            Durability = DurabilityMode.None,
            AutoVacuumDeadFraction = 0.0,
            AutoVacuumInterval = Timeout.InfiniteTimeSpan,
            AutoVacuumWhenIdleFor = TimeSpan.FromHours(1),
        });
        await backend.ConnectAsync();
        var s = await backend.CreateSessionAsync(new SessionMetadata("busy", "u") { MaxMessages = 5, SummaryStrategy = SummaryStrategy.Manual });
        await s.AddMessagesAsync(Enumerable.Range(0, 50).Select(i => new Message(MessageRole.User, $"m{i}") { TokenCount = 5 }));
        await Task.Delay(100);
        Assert.Null((await backend.GetUsageStatsAsync()).Extra["last_vacuum"]);
    }

    [Fact]
    public void Provider_ReadsTheIdleOption_AndZeroIntervalOnlyWithIt()
    {
        using var dir = new TempStore();
        var provider = new EngineBackendProvider();
        var backend = (EngineBackend)provider.Create(new BackendSettings(new Dictionary<string, object?>
        {
            ["path"] = dir.Path,
            ["auto_vacuum_dead_percent"] = 30,
            ["auto_vacuum_idle_ms"] = 2000,
            ["auto_vacuum_interval_ms"] = 0,
            ["archived_max_age_days"] = 14,
        }));
        Assert.Equal(TimeSpan.FromSeconds(2), backend.Options.AutoVacuumWhenIdleFor);
        Assert.Equal(Timeout.InfiniteTimeSpan, backend.Options.AutoVacuumInterval);
        Assert.Equal(TimeSpan.FromDays(14), backend.Retention!.ArchivedMaxAge);

        var defaults = (EngineBackend)provider.Create(new BackendSettings(new Dictionary<string, object?> { ["path"] = dir.Path }));
        Assert.Null(defaults.Options.AutoVacuumWhenIdleFor);
        Assert.Equal(TimeSpan.FromMinutes(1), defaults.Options.AutoVacuumInterval);
        Assert.Null(defaults.Retention);

        Assert.Throws<MemoryConfigurationException>(() => provider.Create(new BackendSettings(new Dictionary<string, object?> { ["path"] = dir.Path, ["auto_vacuum_interval_ms"] = 0 })));
        Assert.Throws<MemoryConfigurationException>(() => provider.Create(new BackendSettings(new Dictionary<string, object?> { ["path"] = dir.Path, ["auto_vacuum_idle_ms"] = 0 })));
        Assert.Throws<ArgumentException>(() => new EngineBackend(new EngineOptions { Path = dir.Path, AutoVacuumWhenIdleFor = TimeSpan.Zero }));
    }
}
