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

    /// <summary>The session with this id, or null.</summary>
    Task<IMemorySession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default);

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
