namespace LangSwarm.Memory.Hosting;

/// <summary>A manager that gives new sessions the configured defaults before the caller's own settings.</summary>
internal sealed class ConfiguredMemoryManager(IMemoryManager inner, MemorySessionDefaults defaults) : IMemoryManager
{
    /// <inheritdoc />
    public IMemoryBackend Backend => inner.Backend;

    /// <inheritdoc />
    public Task<IMemorySession> CreateSessionAsync(string? userId = null, string? sessionId = null, Action<SessionMetadata>? configure = null, CancellationToken cancellationToken = default) =>
        inner.CreateSessionAsync(userId, sessionId, Configure(configure), cancellationToken);

    /// <inheritdoc />
    public Task<IMemorySession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        inner.GetSessionAsync(sessionId, cancellationToken);

    /// <inheritdoc />
    public Task<IMemorySession?> GetSessionAsync(string sessionId, string userId, CancellationToken cancellationToken = default) =>
        inner.GetSessionAsync(sessionId, userId, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<SessionMetadata>> ListSessionsAsync(string userId, SessionStatus? status = null, int limit = 100, int offset = 0, CancellationToken cancellationToken = default) =>
        inner.ListSessionsAsync(userId, status, limit, offset, cancellationToken);

    /// <inheritdoc />
    public Task<bool> ArchiveSessionAsync(string sessionId, string userId, CancellationToken cancellationToken = default) =>
        inner.ArchiveSessionAsync(sessionId, userId, cancellationToken);

    /// <inheritdoc />
    public Task<bool> DeleteSessionAsync(string sessionId, string userId, CancellationToken cancellationToken = default) =>
        inner.DeleteSessionAsync(sessionId, userId, cancellationToken);

    /// <inheritdoc />
    public Task<IMemorySession> GetOrCreateSessionAsync(string userId, string? sessionId = null, Action<SessionMetadata>? configure = null, CancellationToken cancellationToken = default) =>
        inner.GetOrCreateSessionAsync(userId, sessionId, Configure(configure), cancellationToken);

    /// <inheritdoc />
    public Task<int> CleanupAllSessionsAsync(int maxAgeDays = 30, CancellationToken cancellationToken = default) =>
        inner.CleanupAllSessionsAsync(maxAgeDays, cancellationToken);

    /// <inheritdoc />
    public Task<SystemStats> GetSystemStatsAsync(CancellationToken cancellationToken = default) => inner.GetSystemStatsAsync(cancellationToken);

    /// <inheritdoc />
    public Task ShutdownAsync(CancellationToken cancellationToken = default) => inner.ShutdownAsync(cancellationToken);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => inner.DisposeAsync();

    private Action<SessionMetadata> Configure(Action<SessionMetadata>? configure) => m =>
    {
        defaults.ApplyTo(m);
        configure?.Invoke(m);
    };
}
