namespace LangSwarm.Memory;

/// <summary>A storage backend: sessions, their messages, summaries and maintenance.</summary>
public interface IMemoryBackend : IAsyncDisposable
{
    /// <summary>The backend's registered name (<c>in_memory</c>, <c>sqlite</c>, <c>redis</c>, <c>engine</c>).</summary>
    string Name { get; }

    /// <summary>True between <see cref="ConnectAsync"/> and <see cref="DisconnectAsync"/>.</summary>
    bool IsConnected { get; }

    /// <summary>Opens the storage (creates it when missing). Idempotent.</summary>
    Task ConnectAsync(CancellationToken cancellationToken = default);

    /// <summary>Flushes and closes the storage. Idempotent.</summary>
    Task DisconnectAsync(CancellationToken cancellationToken = default);

    /// <summary>Probes the storage.</summary>
    Task<HealthReport> HealthCheckAsync(CancellationToken cancellationToken = default);

    /// <summary>Creates a session.</summary>
    /// <exception cref="SessionAlreadyExistsException">The id is taken.</exception>
    Task<IMemorySession> CreateSessionAsync(SessionMetadata metadata, CancellationToken cancellationToken = default);

    /// <summary>The session with this id, or null.</summary>
    Task<IMemorySession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary>Sessions, newest activity first (ties by id), filtered and paged.</summary>
    Task<IReadOnlyList<SessionMetadata>> ListSessionsAsync(
        string? userId = null,
        SessionStatus? status = null,
        int limit = 100,
        int offset = 0,
        CancellationToken cancellationToken = default);

    /// <summary>Deletes a session and everything in it; false when there was none.</summary>
    Task<bool> DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary>Deletes sessions with no activity for <paramref name="maxAgeDays"/> days; returns how many.</summary>
    Task<int> CleanupExpiredSessionsAsync(int maxAgeDays = 30, CancellationToken cancellationToken = default);

    /// <summary>Usage statistics.</summary>
    Task<UsageStats> GetUsageStatsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Completes when automatic summaries made in the background (and the evictions they allow) have caught up
    /// with every add so far. Backends that summarize inline complete at once.
    /// </summary>
    Task WhenSummariesIdleAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;
}
