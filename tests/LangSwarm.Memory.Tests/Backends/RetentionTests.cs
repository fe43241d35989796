using Xunit;

namespace LangSwarm.Memory.Tests.Backends;

/// <summary>Retention options from configuration, and a background pass that fails without throwing.</summary>
public sealed class RetentionTests
{
    private static IMemoryBackend Create(Dictionary<string, object?> config) =>
        new MemoryFactory().CreateBackend(MemoryConfiguration.FromDictionary(new Dictionary<string, object?> { ["backend"] = "in_memory", ["config"] = config }));

    [Fact]
    public void Options_BecomeThePolicy_WithTheSeedsDayUnits()
    {
        var backend = (MemoryBackendBase)Create(new() { ["archived_max_age_days"] = 30, ["MaxAgeDays"] = 90, ["retention_interval_ms"] = 5000 });
        Assert.Equal(new RetentionPolicy { ArchivedMaxAge = TimeSpan.FromDays(30), MaxAge = TimeSpan.FromDays(90), Interval = TimeSpan.FromSeconds(5) }, backend.Retention);

        var archivedOnly = (MemoryBackendBase)Create(new() { ["archived_max_age_days"] = 0 });
        Assert.Equal(TimeSpan.Zero, archivedOnly.Retention!.ArchivedMaxAge);
        Assert.Null(archivedOnly.Retention.MaxAge);
        Assert.Equal(TimeSpan.FromHours(1), archivedOnly.Retention.Interval);

        // An interval alone deletes nothing, so there is no policy.
        Assert.Null(((MemoryBackendBase)Create(new() { ["retention_interval_ms"] = 5000 })).Retention);
        Assert.Null(((MemoryBackendBase)Create([])).Retention);
    }

    [Theory]
    [InlineData("archived_max_age_days", -1)]
    [InlineData("max_age_days", 2.5)]
    [InlineData("retention_interval_ms", 0)]
    [InlineData("max_age_day", 3)]
    public void Options_OutOfRange_FailWithAConfigurationError(string key, object value) =>
        Assert.Throws<MemoryConfigurationException>(() => Create(new() { ["max_age_days"] = 30, [key] = value }));

    [Fact]
    public async Task HugeAgeOptions_KeepEverySession_InsteadOfFailing()
    {
        // Before: over 36,500 days was a configuration error, and TimeSpan.FromDays(int.MaxValue) overflowed.
        await using var backend = (MemoryBackendBase)Create(new() { ["max_age_days"] = int.MaxValue, ["archived_max_age_days"] = 3_000_000 });
        Assert.Equal(TimeSpan.MaxValue, backend.Retention!.MaxAge);
        Assert.Equal(TimeSpan.FromDays(3_000_000), backend.Retention.ArchivedMaxAge);
        await backend.ConnectAsync();
        var ancient = DateTimeOffset.MinValue.AddDays(1);
        await backend.CreateSessionAsync(new SessionMetadata("ancient", "u") { CreatedAt = ancient, UpdatedAt = ancient, Status = SessionStatus.Archived });
        Assert.Equal(0, await backend.RunRetentionAsync());
        Assert.Null((await backend.HealthCheckAsync()).LastError);
        Assert.NotNull(await backend.GetSessionAsync("ancient"));
    }

    [Fact]
    public void NegativeAges_AreOutOfRange_AsInCleanup()
    {
        var backend = new InMemoryBackend();
        Assert.Throws<ArgumentOutOfRangeException>(() => backend.Retention = new RetentionPolicy { MaxAge = TimeSpan.FromDays(-1) });
        Assert.Throws<ArgumentOutOfRangeException>(() => RetentionRunner.AgeFromDays(-1));
        Assert.Equal(TimeSpan.MaxValue, RetentionRunner.AgeFromDays(long.MaxValue));
        Assert.Null(RetentionRunner.CutoffBefore(DateTimeOffset.UtcNow, TimeSpan.MaxValue));
        Assert.Null(RetentionRunner.CutoffBefore(DateTimeOffset.MinValue.AddDays(5), TimeSpan.FromDays(5)));
        Assert.Equal(DateTimeOffset.MinValue.AddDays(1), RetentionRunner.CutoffBefore(DateTimeOffset.MinValue.AddDays(5), TimeSpan.FromDays(4)));
    }

    [Fact]
    public async Task FailingPass_IsReportedByTheHealthCheck_NotThrown_AndTheLoopGoesOn()
    {
        var clock = new FailingClock();
        await using var backend = new InMemoryBackend
        {
            Clock = clock,
            Retention = new RetentionPolicy { MaxAge = TimeSpan.FromDays(1), Interval = TimeSpan.FromMilliseconds(10) },
        };
        var unobserved = 0;
        EventHandler<UnobservedTaskExceptionEventArgs> count = (_, _) => Interlocked.Increment(ref unobserved);
        TaskScheduler.UnobservedTaskException += count;
        try
        {
            await backend.ConnectAsync();
            await backend.CreateSessionAsync(new SessionMetadata("old", "u") { CreatedAt = DateTimeOffset.UtcNow.AddDays(-3), UpdatedAt = DateTimeOffset.UtcNow.AddDays(-3) });
            await WaitUntilAsync(async () => (await backend.HealthCheckAsync()).LastError?.Contains("Retention pass failed", StringComparison.Ordinal) == true);

            clock.Fail = false; // the next pass works
            await WaitUntilAsync(async () => await backend.GetSessionAsync("old") is null);
            await backend.DisposeAsync();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Assert.Equal(0, unobserved);
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= count;
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(10);
        }
    }

    /// <summary>A system clock whose reads throw while <see cref="Fail"/> is set.</summary>
    private sealed class FailingClock : TimeProvider
    {
        public volatile bool Fail = true;

        public override DateTimeOffset GetUtcNow() => Fail ? throw new InvalidOperationException("clock broke") : base.GetUtcNow();
    }
}
