using Xunit;

namespace LangSwarm.Memory.Tests.Sessions;

/// <summary>The scan for summaries owed at connect runs in the background, never inside ConnectAsync.</summary>
public sealed class BackgroundScanTests
{
    /// <summary>The in-memory store, with a listing that blocks its caller's thread until released.</summary>
    private sealed class BlockingListStore : ISessionStore
    {
        private readonly InMemorySessionStore _inner = new();

        public ManualResetEventSlim Release { get; } = new(false);

        public Task OpenAsync(CancellationToken cancellationToken) => _inner.OpenAsync(cancellationToken);

        public Task CloseAsync(CancellationToken cancellationToken) => _inner.CloseAsync(cancellationToken);

        public ValueTask DisposeAsync() => _inner.DisposeAsync();

        public Task<IReadOnlyList<string>> ProbeAsync(CancellationToken cancellationToken) => _inner.ProbeAsync(cancellationToken);

        public Task<ISessionHandle?> CreateSessionAsync(SessionMetadata metadata, CancellationToken cancellationToken) => _inner.CreateSessionAsync(metadata, cancellationToken);

        public Task<ISessionHandle?> OpenSessionAsync(string sessionId, CancellationToken cancellationToken) => _inner.OpenSessionAsync(sessionId, cancellationToken);

        public Task<IReadOnlyList<SessionMetadata>> QuerySessionsAsync(SessionQuery query, CancellationToken cancellationToken)
        {
            Release.Wait(cancellationToken);
            return _inner.QuerySessionsAsync(query, cancellationToken);
        }

        public Task<bool> RemoveSessionAsync(string sessionId, CancellationToken cancellationToken) => _inner.RemoveSessionAsync(sessionId, cancellationToken);

        public Task<IReadOnlyList<string>> FindSessionsUpdatedBeforeAsync(DateTimeOffset cutoff, SessionStatus? status, CancellationToken cancellationToken) =>
            _inner.FindSessionsUpdatedBeforeAsync(cutoff, status, cancellationToken);

        public Task<UsageStats> ComputeUsageStatsAsync(CancellationToken cancellationToken) => _inner.ComputeUsageStatsAsync(cancellationToken);
    }

    private sealed class Backend(ISessionStore store) : MemoryBackendBase(store)
    {
        public override string Name => "blocking";
    }

    [Fact]
    public async Task Connect_ReturnsWhileTheScanIsStillRunning_AndIdleWaitsForIt()
    {
        var store = new BlockingListStore();
        await using var backend = new Backend(store);
        // On the thread pool, so a connect that ran the scan inline fails this test by its timeout instead of hanging it.
        await Task.Run(() => backend.ConnectAsync()).WaitAsync(TimeSpan.FromSeconds(10));
        var idle = backend.WhenSummariesIdleAsync();
        Assert.False(idle.IsCompleted);
        store.Release.Set();
        await idle.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
