using System.Diagnostics;

namespace LangSwarm.Memory;

/// <summary>
/// The unified memory manager over one backend; connects the backend on first use. A health check of its backend
/// (<c>manager.Backend.HealthCheckAsync()</c>, the seed's <c>memory.backend.health_check()</c>) counts as a use: a
/// fresh manager whose backend can connect reports healthy before any other operation (for backends derived from
/// <see cref="MemoryBackendBase"/>; others report as they do). After <see cref="ShutdownAsync"/> it no longer connects.
/// </summary>
public sealed class MemoryManager : IMemoryManager
{
    private readonly Stopwatch _uptime = Stopwatch.StartNew();
    private readonly SemaphoreSlim[] _userLocks = Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1)).ToArray();
    private long _sessionsOpened;
    private volatile bool _shutDown;

    /// <summary>Creates a manager over a backend (connected or not).</summary>
    public MemoryManager(IMemoryBackend backend)
    {
        Backend = backend ?? throw new ArgumentNullException(nameof(backend));
        if (backend is MemoryBackendBase own)
        {
            own.ConnectOnHealthCheck = true;
        }
    }

    /// <inheritdoc />
    public IMemoryBackend Backend { get; }

    /// <inheritdoc />
    public async Task<IMemorySession> CreateSessionAsync(
        string? userId = null,
        string? sessionId = null,
        Action<SessionMetadata>? configure = null,
        CancellationToken cancellationToken = default)
    {
        await EnsureStartedAsync(cancellationToken).ConfigureAwait(false);
        var metadata = new SessionMetadata(sessionId ?? Message.NewId(), userId);
        configure?.Invoke(metadata);
        var session = await Backend.CreateSessionAsync(metadata, cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _sessionsOpened);
        return session;
    }

    /// <summary>Creates a session with the seed's keyword metadata (<c>max_messages</c>, <c>custom_metadata</c>, any custom key).</summary>
    public async Task<IMemorySession> CreateSessionAsync(
        string? userId,
        string? sessionId,
        IReadOnlyDictionary<string, object?> metadata,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        return await CreateSessionAsync(userId, sessionId, m => MetadataUpdater.Apply(m, metadata), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IMemorySession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        await EnsureStartedAsync(cancellationToken).ConfigureAwait(false);
        var s = await Backend.GetSessionAsync(sessionId, cancellationToken).ConfigureAwait(false);
        if (s is not null)
        {
            Interlocked.Increment(ref _sessionsOpened);
        }
        return s;
    }

    /// <inheritdoc />
    public async Task<IMemorySession?> GetSessionAsync(string sessionId, string userId, CancellationToken cancellationToken = default)
    {
        MessageValidator.ValidateUserId(userId);
        MessageValidator.ValidateSessionId(sessionId);
        await EnsureStartedAsync(cancellationToken).ConfigureAwait(false);
        var s = await Backend.GetSessionAsync(sessionId, userId, cancellationToken).ConfigureAwait(false);
        if (s is not null)
        {
            Interlocked.Increment(ref _sessionsOpened);
        }
        return s;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<SessionMetadata>> ListSessionsAsync(
        string userId,
        SessionStatus? status = null,
        int limit = 100,
        int offset = 0,
        CancellationToken cancellationToken = default)
    {
        MessageValidator.ValidateUserId(userId);
        await EnsureStartedAsync(cancellationToken).ConfigureAwait(false);
        var page = await Backend.ListSessionsAsync(userId, status, limit, offset, cancellationToken).ConfigureAwait(false);
        // Whatever the backend (one not derived from MemoryBackendBase included), never another user's session.
        return page.All(m => MemoryBackendBase.Owns(m, userId)) ? page : page.Where(m => MemoryBackendBase.Owns(m, userId)).ToList();
    }

    /// <inheritdoc />
    public async Task<bool> ArchiveSessionAsync(string sessionId, string userId, CancellationToken cancellationToken = default)
    {
        MessageValidator.ValidateUserId(userId);
        MessageValidator.ValidateSessionId(sessionId);
        await EnsureStartedAsync(cancellationToken).ConfigureAwait(false);
        return await Backend.ArchiveSessionAsync(sessionId, userId, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<bool> DeleteSessionAsync(string sessionId, string userId, CancellationToken cancellationToken = default)
    {
        MessageValidator.ValidateUserId(userId);
        MessageValidator.ValidateSessionId(sessionId);
        await EnsureStartedAsync(cancellationToken).ConfigureAwait(false);
        return await Backend.DeleteSessionAsync(sessionId, userId, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IMemorySession> GetOrCreateSessionAsync(
        string userId,
        string? sessionId = null,
        Action<SessionMetadata>? configure = null,
        CancellationToken cancellationToken = default)
    {
        MessageValidator.ValidateUserId(userId);
        await EnsureStartedAsync(cancellationToken).ConfigureAwait(false);
        if (sessionId is null)
        {
            // The user's conversation: their most recently active session, or a new one. Callers for one user
            // are serialized, so concurrent first calls do not each create a session.
            var gate = _userLocks[(uint)StringComparer.Ordinal.GetHashCode(userId) % (uint)_userLocks.Length];
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var recent = await Backend.ListSessionsAsync(userId, SessionStatus.Active, 1, 0, cancellationToken).ConfigureAwait(false);
                if (recent.Count > 0)
                {
                    var existing = await Backend.GetSessionAsync(recent[0].SessionId, userId, cancellationToken).ConfigureAwait(false);
                    if (existing is not null)
                    {
                        Interlocked.Increment(ref _sessionsOpened);
                        return existing;
                    }
                }
                return await CreateSessionAsync(userId, null, configure, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }
        }

        for (var attempt = 0; ; attempt++)
        {
            var found = await Backend.GetSessionAsync(sessionId, cancellationToken).ConfigureAwait(false);
            if (found is not null)
            {
                if (!string.Equals(found.Metadata.UserId, userId, StringComparison.Ordinal))
                {
                    throw new SessionAccessDeniedException(sessionId);
                }
                Interlocked.Increment(ref _sessionsOpened);
                return found;
            }
            try
            {
                return await CreateSessionAsync(userId, sessionId, configure, cancellationToken).ConfigureAwait(false);
            }
            catch (SessionAlreadyExistsException) when (attempt < 3)
            {
                // Created by a concurrent caller between our get and create: read it again.
            }
        }
    }

    /// <inheritdoc />
    public async Task<int> CleanupAllSessionsAsync(int maxAgeDays = 30, CancellationToken cancellationToken = default)
    {
        await EnsureStartedAsync(cancellationToken).ConfigureAwait(false);
        return await Backend.CleanupExpiredSessionsAsync(maxAgeDays, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<SystemStats> GetSystemStatsAsync(CancellationToken cancellationToken = default)
    {
        await EnsureStartedAsync(cancellationToken).ConfigureAwait(false);
        var usage = await Backend.GetUsageStatsAsync(cancellationToken).ConfigureAwait(false);
        return new SystemStats
        {
            Backend = usage,
            MemoryUsageMb = Math.Round(Environment.WorkingSet / (1024.0 * 1024.0), 2),
            SessionsOpened = Interlocked.Read(ref _sessionsOpened),
            Uptime = _uptime.Elapsed,
        };
    }

    /// <inheritdoc />
    public async Task ShutdownAsync(CancellationToken cancellationToken = default)
    {
        if (_shutDown)
        {
            return;
        }
        _shutDown = true;
        if (Backend is MemoryBackendBase own)
        {
            own.ConnectOnHealthCheck = false;
        }
        await Backend.DisconnectAsync(cancellationToken).ConfigureAwait(false);
        await Backend.DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await ShutdownAsync().ConfigureAwait(false);

    private async Task EnsureStartedAsync(CancellationToken cancellationToken)
    {
        if (_shutDown)
        {
            throw new BackendUnavailableException("The memory manager has been shut down.");
        }
        if (!Backend.IsConnected)
        {
            await Backend.ConnectAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
