using Xunit;

namespace LangSwarm.Memory.Conformance;

/// <summary>The retention policy (<see cref="MemoryBackendBase.Retention"/>): which sessions go, and the background pass.</summary>
public abstract partial class BackendConformanceTests
{
    private static readonly DateTimeOffset LongAgo = DateTimeOffset.UtcNow.AddDays(-40);

    /// <summary>The backend as the base that implements retention (every backend of this repository is one).</summary>
    private MemoryBackendBase RetainingBackend =>
        Backend as MemoryBackendBase ?? throw new InvalidOperationException($"{Backend.GetType().Name} does not derive from MemoryBackendBase.");

    /// <summary>Four sessions: archived 40 and 2 days ago, active and idle 40 days, active now.</summary>
    private async Task SeedRetentionSessionsAsync()
    {
        var backend = RetainingBackend;
        var clock = backend.Clock;
        try
        {
            // Archiving stamps the backend's clock: move it back to archive "long ago" through the real path.
            backend.Clock = new ShiftedClock(LongAgo - DateTimeOffset.UtcNow);
            var old = await Backend.CreateSessionAsync(new SessionMetadata("archived-old", "u") { CreatedAt = LongAgo, UpdatedAt = LongAgo });
            await old.AddMessageAsync(Msg(MessageRole.User, "kept for a while"));
            await old.ArchiveSessionAsync();
            backend.Clock = new ShiftedClock(TimeSpan.FromDays(-2));
            var recent = await Backend.CreateSessionAsync(new SessionMetadata("archived-recent", "u") { CreatedAt = LongAgo, UpdatedAt = LongAgo });
            await recent.ArchiveSessionAsync();
        }
        finally
        {
            backend.Clock = clock;
        }
        await Backend.CreateSessionAsync(new SessionMetadata("active-idle", "u") { CreatedAt = LongAgo, UpdatedAt = LongAgo });
        var active = await NewSessionAsync(id: "active-now");
        await active.AddMessageAsync(Msg(MessageRole.User, "still talking"));
    }

    private async Task<string[]> SessionIdsAsync() =>
        (await Backend.ListSessionsAsync()).Select(s => s.SessionId).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public async Task Retention_DeletesArchivedPastTheAge_KeepsNewerAndActive_ThenIdleByMaxAge()
    {
        await SeedRetentionSessionsAsync();
        var backend = RetainingBackend;
        Assert.Equal(0, await backend.RunRetentionAsync()); // no policy: nothing

        backend.Retention = new RetentionPolicy { ArchivedMaxAge = TimeSpan.FromDays(30) };
        Assert.Equal(1, await backend.RunRetentionAsync());
        Assert.Equal(["active-idle", "active-now", "archived-recent"], await SessionIdsAsync());
        Assert.Null(await Backend.GetSessionAsync("archived-old"));
        Assert.Equal(1, backend.LastRetention!.SessionsDeleted);
        Assert.Equal(0, await backend.RunRetentionAsync());

        // max_age_days: any session idle that long, as cleanup_expired_sessions does.
        backend.Retention = new RetentionPolicy { ArchivedMaxAge = TimeSpan.FromDays(1), MaxAge = TimeSpan.FromDays(30) };
        Assert.Equal(2, await backend.RunRetentionAsync());
        Assert.Equal(["active-now"], await SessionIdsAsync());
        Assert.Single(await (await Backend.GetSessionAsync("active-now"))!.GetMessagesAsync());
    }

    [Fact]
    public async Task Retention_RunsInTheBackground_AndStopsOnDisconnect()
    {
        var backend = RetainingBackend;
        await Backend.DisconnectAsync();
        backend.Retention = new RetentionPolicy { ArchivedMaxAge = TimeSpan.FromDays(30), Interval = TimeSpan.FromMilliseconds(10) };
        await Backend.ConnectAsync(); // the policy is read here
        await SeedRetentionSessionsAsync();

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await Backend.GetSessionAsync("archived-old") is not null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }
        Assert.Equal(["active-idle", "active-now", "archived-recent"], await SessionIdsAsync());
        Assert.Equal(HealthStatus.Healthy, (await Backend.HealthCheckAsync()).Status);

        await Backend.DisconnectAsync(); // waits for the pass to stop
        var last = backend.LastRetention;
        Assert.NotNull(last);
        await Task.Delay(60); // several intervals: a loop still running would record a new pass
        Assert.Same(last, backend.LastRetention);

        backend.Retention = null;
        await Backend.ConnectAsync(); // for the suite's own cleanup
    }

    [Fact]
    public void Retention_RejectsNegativeAgesAndIntervals()
    {
        var backend = RetainingBackend;
        Assert.Throws<ArgumentOutOfRangeException>(() => backend.Retention = new RetentionPolicy { ArchivedMaxAge = TimeSpan.FromDays(-1) });
        Assert.Throws<ArgumentOutOfRangeException>(() => backend.Retention = new RetentionPolicy { MaxAge = TimeSpan.FromTicks(-1) });
        Assert.Throws<ArgumentException>(() => backend.Retention = new RetentionPolicy { MaxAge = TimeSpan.FromDays(1), Interval = TimeSpan.Zero });
        Assert.Null(backend.Retention);
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(3_000_000)]
    [InlineData(800_000)] // just past the calendar's start (about 740,000 days ago)
    public async Task HugeAges_MeanNothingThatOld(int days)
    {
        var ancient = DateTimeOffset.MinValue.AddDays(1);
        await Backend.CreateSessionAsync(new SessionMetadata("ancient", "u") { CreatedAt = ancient, UpdatedAt = ancient });
        await NewSessionAsync(id: "today");

        Assert.Equal(0, await Backend.CleanupExpiredSessionsAsync(days));
        var backend = RetainingBackend;
        backend.Retention = new RetentionPolicy { MaxAge = TimeSpan.FromDays(Math.Min(days, 10_000_000)), ArchivedMaxAge = TimeSpan.MaxValue };
        Assert.Equal(0, await backend.RunRetentionAsync());
        backend.Retention = new RetentionPolicy { MaxAge = TimeSpan.MaxValue };
        Assert.Equal(0, await backend.RunRetentionAsync());
        backend.Retention = null;
        Assert.Equal(["ancient", "today"], await SessionIdsAsync());
        // The oldest session still goes at an age it has reached.
        Assert.Equal(1, await Backend.CleanupExpiredSessionsAsync(700_000));
    }

    /// <summary>The system clock moved by a fixed offset.</summary>
    private sealed class ShiftedClock(TimeSpan offset) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + offset;
    }
}
