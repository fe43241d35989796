namespace LangSwarm.Memory;

/// <summary>The unified entry point: sessions over one backend, with system-wide operations.</summary>
public interface IMemoryManager : IAsyncDisposable
{
    /// <summary>The backend the manager drives.</summary>
    IMemoryBackend Backend { get; }

    /// <summary>Creates a session; <paramref name="configure"/> sets limits, strategy and custom metadata.</summary>
    Task<IMemorySession> CreateSessionAsync(
        string? userId = null,
        string? sessionId = null,
        Action<SessionMetadata>? configure = null,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// The session with this id, or null. Does not check ownership; use the overload with userId in a multi-user
    /// app (<see cref="GetSessionAsync(string, string, CancellationToken)"/>).
    /// </summary>
    Task<IMemorySession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary>
    /// The session with this id when it belongs to <paramref name="userId"/>; null when there is none or it is
    /// another user's (existence is not revealed). See <see cref="IMemoryBackend.GetSessionAsync(string, string, CancellationToken)"/>.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="userId"/> or <paramref name="sessionId"/> is null, empty or invalid.</exception>
    Task<IMemorySession?> GetSessionAsync(string sessionId, string userId, CancellationToken cancellationToken = default);

    /// <summary>
    /// <paramref name="userId"/>'s sessions, newest activity first (ties by id), filtered by status and paged;
    /// never another user's.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="userId"/> is null, empty or invalid.</exception>
    Task<IReadOnlyList<SessionMetadata>> ListSessionsAsync(
        string userId,
        SessionStatus? status = null,
        int limit = 100,
        int offset = 0,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Archives the session when it belongs to <paramref name="userId"/>; false when there is none or it is
    /// another user's (left untouched). See <see cref="IMemoryBackend.ArchiveSessionAsync(string, string, CancellationToken)"/>.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="userId"/> or <paramref name="sessionId"/> is null, empty or invalid.</exception>
    Task<bool> ArchiveSessionAsync(string sessionId, string userId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes the session and everything in it when it belongs to <paramref name="userId"/>; false when there is
    /// none or it is another user's (left untouched). See <see cref="IMemoryBackend.DeleteSessionAsync(string, string, CancellationToken)"/>.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="userId"/> or <paramref name="sessionId"/> is null, empty or invalid.</exception>
    Task<bool> DeleteSessionAsync(string sessionId, string userId, CancellationToken cancellationToken = default);

    /// <summary>
    /// The session <paramref name="sessionId"/> (or, without one, a new session) for <paramref name="userId"/>.
    /// </summary>
    /// <exception cref="SessionAccessDeniedException">The session belongs to another user.</exception>
    Task<IMemorySession> GetOrCreateSessionAsync(
        string userId,
        string? sessionId = null,
        Action<SessionMetadata>? configure = null,
        CancellationToken cancellationToken = default);

    /// <summary>Deletes sessions idle for <paramref name="maxAgeDays"/> days; returns how many.</summary>
    Task<int> CleanupAllSessionsAsync(int maxAgeDays = 30, CancellationToken cancellationToken = default);

    /// <summary>System-wide statistics.</summary>
    Task<SystemStats> GetSystemStatsAsync(CancellationToken cancellationToken = default);

    /// <summary>Disconnects the backend and releases resources. Idempotent.</summary>
    Task ShutdownAsync(CancellationToken cancellationToken = default);
}
