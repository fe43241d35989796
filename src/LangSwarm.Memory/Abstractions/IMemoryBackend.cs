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

    /// <summary>
    /// The session with this id, or null. Does not check ownership; use the overload with userId in a multi-user
    /// app (<see cref="GetSessionAsync(string, string, CancellationToken)"/>).
    /// </summary>
    Task<IMemorySession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary>
    /// The session with this id when it belongs to <paramref name="userId"/>; otherwise null. Another user's
    /// session (or one without an owner) is answered exactly as a session that does not exist, so its existence is
    /// not revealed. The session returned stays bound to its owner: if the id is later deleted and taken by another
    /// user's session, its calls find no session (<see cref="SessionNotFoundException"/>).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="userId"/> or <paramref name="sessionId"/> is null, empty or invalid (thrown before anything is read).</exception>
    Task<IMemorySession?> GetSessionAsync(string sessionId, string userId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sessions, newest activity first (ties by id), filtered and paged. With a <paramref name="userId"/>, only that
    /// user's sessions (exact, ordinal match) are listed; without one, every user's sessions are (no ownership check).
    /// </summary>
    Task<IReadOnlyList<SessionMetadata>> ListSessionsAsync(
        string? userId = null,
        SessionStatus? status = null,
        int limit = 100,
        int offset = 0,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes a session and everything in it; false when there was none. Does not check ownership; use the overload
    /// with userId in a multi-user app (<see cref="DeleteSessionAsync(string, string, CancellationToken)"/>).
    /// </summary>
    Task<bool> DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes the session and everything in it when it belongs to <paramref name="userId"/>; false when there is
    /// no such session or it is another user's (which is left untouched; existence is not revealed). The owner is
    /// checked under the session's lock, so a session deleted and re-created by another user meanwhile is kept.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="userId"/> or <paramref name="sessionId"/> is null, empty or invalid (thrown before anything is changed).</exception>
    Task<bool> DeleteSessionAsync(string sessionId, string userId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Archives the session (<see cref="IMemorySession.ArchiveSessionAsync"/>) when it belongs to
    /// <paramref name="userId"/>; true when it is archived (already archived included), false when there is no such
    /// session or it is another user's (left untouched). The owner is checked under the session's lock.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="userId"/> or <paramref name="sessionId"/> is null, empty or invalid (thrown before anything is changed).</exception>
    Task<bool> ArchiveSessionAsync(string sessionId, string userId, CancellationToken cancellationToken = default);

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
