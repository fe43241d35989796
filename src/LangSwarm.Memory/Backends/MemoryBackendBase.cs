using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LangSwarm.Memory;

/// <summary>
/// The session layer every backend shares. It implements the seed's behaviour once — validation, per-session
/// ordering, token counting, eviction, the summary chain and its background worker, cleanup, health — over an
/// <see cref="ISessionStore"/> that each backend provides. That is what lets one conformance suite hold every
/// backend to the same observable behaviour.
/// </summary>
public abstract class MemoryBackendBase : IMemoryBackend
{
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private readonly SessionLinks _links;
    private readonly SummaryWorker _summaries;
    private readonly RetentionRunner _retentionRunner;
    private volatile bool _connected;
    private string? _lastError;
    private RetentionPolicy? _retention;

    /// <summary>Creates the backend over a store, with its token counter and summarizer.</summary>
    protected MemoryBackendBase(ISessionStore store, ITokenCounter? tokenCounter = null, ISummarizer? summarizer = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        Store = store;
        TokenCounter = tokenCounter ?? TiktokenCounter.Default;
        Summarizer = summarizer ?? new ExtractiveSummarizer();
        _summaries = new SummaryWorker(this);
        _links = new SessionLinks(this);
        _retentionRunner = new RetentionRunner(this);
    }

    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public bool IsConnected => _connected;

    /// <summary>Counts tokens of messages that arrive without a count.</summary>
    public ITokenCounter TokenCounter { get; set; }

    /// <summary>Makes the summaries of automatic and manual summarization.</summary>
    public ISummarizer Summarizer { get; set; }

    /// <summary>How automatic summaries run in the background (concurrency, retry backoff); read at connect.</summary>
    public BackgroundSummaryOptions BackgroundSummaries { get; } = new();

    /// <summary>
    /// Set by a <see cref="MemoryManager"/> over this backend (until it shuts down): the manager connects on first use,
    /// and a health check is a use, so <see cref="HealthCheckAsync"/> connects a backend that is not connected yet and
    /// reports what it finds. A backend used on its own reports "not connected" until it is connected.
    /// </summary>
    internal bool ConnectOnHealthCheck { get; set; }

    /// <summary>Where the backend logs (<see cref="MemoryEventIds"/>); never message content. Set before connecting.</summary>
    public ILogger Logger { get; set; } = NullLogger.Instance;

    /// <summary>Clock used for activity times (tests may move it).</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>The storage under the session layer.</summary>
    internal ISessionStore Store { get; }

    /// <summary>
    /// What the backend deletes by itself (null: nothing). Read at <see cref="ConnectAsync"/>: a pass runs then and
    /// every <see cref="RetentionPolicy.Interval"/> until <see cref="DisconnectAsync"/>, which stops it between two
    /// sessions and waits for it. A failed pass is reported by the health check and retried at the next interval.
    /// </summary>
    public RetentionPolicy? Retention
    {
        get => _retention;
        set
        {
            value?.Validate();
            _retention = value;
        }
    }

    /// <summary>When the last retention pass ended and how many sessions it deleted (null: none yet).</summary>
    public RetentionReport? LastRetention => _retentionRunner.Last;

    /// <summary>
    /// Runs one retention pass of <see cref="Retention"/> now, as the background does; returns the sessions
    /// deleted (0 when there is no policy). Each delete takes the session's lock and re-checks its age and status
    /// first, so a session written to meanwhile is kept.
    /// </summary>
    public Task<int> RunRetentionAsync(CancellationToken cancellationToken = default)
    {
        EnsureConnected();
        return _retention is { IsEnabled: true } policy ? _retentionRunner.PassAsync(policy, cancellationToken) : Task.FromResult(0);
    }

    /// <inheritdoc />
    public Task<int> CleanupExpiredSessionsAsync(int maxAgeDays = 30, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxAgeDays);
        EnsureConnected();
        return _retentionRunner.DeleteOlderThanAsync(RetentionRunner.AgeFromDays(maxAgeDays), cancellationToken);
    }

    /// <inheritdoc />
    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        await _connectLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_connected)
            {
                return;
            }
            var started = Stopwatch.GetTimestamp();
            try
            {
                await Store.OpenAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not MemoryException and not OperationCanceledException and not ArgumentException)
            {
                _lastError = ex.Message;
                MemoryLog.BackendConnectFailed(Logger, Name, ex);
                throw new BackendUnavailableException($"Backend '{Name}' could not connect: {ex.Message}", ex);
            }
            catch (MemoryException ex)
            {
                _lastError = ex.Message;
                MemoryLog.BackendConnectFailed(Logger, Name, ex);
                throw;
            }
            MemoryLog.BackendConnected(Logger, Name, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            _connected = true;
            _summaries.Start();
            if (!Store.IsReadOnly)
            {
                _retentionRunner.Start(_retention);
                // Summaries owed when the store last closed (a crash, a disconnect mid-summary) are queued again.
                _summaries.Track(QueueOwedSummariesAsync);
            }
        }
        finally
        {
            _connectLock.Release();
        }
    }

    /// <inheritdoc />
    public async Task DisconnectAsync(CancellationToken cancellationToken = default)
    {
        await _connectLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_connected)
            {
                return;
            }
            var started = Stopwatch.GetTimestamp();
            await _retentionRunner.StopAsync().ConfigureAwait(false);
            await _summaries.StopAsync().ConfigureAwait(false);
            _connected = false;
            _links.CloseAll();
            await Store.CloseAsync(cancellationToken).ConfigureAwait(false);
            MemoryLog.BackendDisconnected(Logger, Name, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        finally
        {
            _connectLock.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await DisconnectAsync().ConfigureAwait(false);
        await Store.DisposeAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// Completes when the background summarizer has nothing running or queued: every automatic summary owed so
    /// far is made and its chunk evicted. A session whose summaries keep failing stays queued (retrying), so use
    /// a cancellation token when the summarizer may be failing.
    /// </summary>
    public Task WhenSummariesIdleAsync(CancellationToken cancellationToken = default) => _summaries.WhenIdleAsync(cancellationToken);

    /// <inheritdoc />
    public async Task<HealthReport> HealthCheckAsync(CancellationToken cancellationToken = default)
    {
        if (!_connected && ConnectOnHealthCheck)
        {
            try
            {
                await ConnectAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                _lastError = ex.Message;
            }
        }
        if (!_connected)
        {
            return new HealthReport { Status = HealthStatus.Unhealthy, Connected = false, Backend = Name, LastError = _lastError ?? "not connected" };
        }
        var sw = Stopwatch.StartNew();
        try
        {
            var found = await Store.ProbeAsync(cancellationToken).ConfigureAwait(false);
            sw.Stop();
            var issues = new List<string>(found);
            if (_summaries.Problem is { } summaries)
            {
                issues.Add(summaries);
            }
            return new HealthReport
            {
                Status = issues.Count == 0 ? HealthStatus.Healthy : HealthStatus.Degraded,
                Connected = true,
                ResponseTimeMs = Math.Round(sw.Elapsed.TotalMilliseconds, 3),
                LastError = issues.Count == 0 ? _lastError : string.Join("; ", issues),
                Backend = Name,
                Details = new Dictionary<string, object?> { ["issues"] = issues },
            };
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _lastError = ex.Message;
            return new HealthReport { Status = HealthStatus.Unhealthy, Connected = false, Backend = Name, LastError = ex.Message, ResponseTimeMs = sw.Elapsed.TotalMilliseconds };
        }
    }

    /// <inheritdoc />
    public async Task<IMemorySession> CreateSessionAsync(SessionMetadata metadata, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        EnsureConnected();
        MessageValidator.ValidateSessionId(metadata.SessionId, nameof(metadata));
        if (metadata.UserId is not null)
        {
            MessageValidator.ValidateUserId(metadata.UserId, nameof(metadata));
        }
        MemoryLimits.ValidateSessionSettings(metadata);
        var handle = await Store.CreateSessionAsync(metadata.Clone(), cancellationToken).ConfigureAwait(false)
            ?? throw new SessionAlreadyExistsException(metadata.SessionId);
        return new StoredSession(this, _links.Register(handle));
    }

    /// <inheritdoc />
    public async Task<IMemorySession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        MessageValidator.ValidateSessionId(sessionId);
        EnsureConnected();
        var link = await _links.OpenFreshAsync(sessionId, cancellationToken).ConfigureAwait(false);
        return link is null ? null : new StoredSession(this, link);
    }

    /// <inheritdoc />
    public async Task<IMemorySession?> GetSessionAsync(string sessionId, string userId, CancellationToken cancellationToken = default)
    {
        MessageValidator.ValidateUserId(userId);
        MessageValidator.ValidateSessionId(sessionId);
        EnsureConnected();
        var link = await _links.OpenFreshAsync(sessionId, cancellationToken).ConfigureAwait(false);
        return link is not null && Owns(link.Handle.State.Metadata, userId) ? new StoredSession(this, link, userId) : null;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<SessionMetadata>> ListSessionsAsync(
        string? userId = null,
        SessionStatus? status = null,
        int limit = 100,
        int offset = 0,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (userId is not null)
        {
            MessageValidator.ValidateUserId(userId);
        }
        EnsureConnected();
        if (limit == 0)
        {
            return Task.FromResult<IReadOnlyList<SessionMetadata>>([]);
        }
        var page = Store.QuerySessionsAsync(new SessionQuery(userId, status, limit, offset), cancellationToken);
        return userId is null ? page : OnlyOwnedAsync(page, userId);
    }

    /// <inheritdoc />
    public async Task<bool> DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        MessageValidator.ValidateSessionId(sessionId);
        EnsureConnected();
        return await _links.RemoveIfAsync(sessionId, static _ => true, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<bool> DeleteSessionAsync(string sessionId, string userId, CancellationToken cancellationToken = default)
    {
        MessageValidator.ValidateUserId(userId);
        MessageValidator.ValidateSessionId(sessionId);
        EnsureConnected();
        // The owner is read again under the session's lock, just before the remove.
        return await _links.RemoveIfAsync(sessionId, m => Owns(m, userId), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<bool> ArchiveSessionAsync(string sessionId, string userId, CancellationToken cancellationToken = default)
    {
        // The session is bound to its owner: its archive re-reads the owner under the session's lock.
        if (await GetSessionAsync(sessionId, userId, cancellationToken).ConfigureAwait(false) is not { } session)
        {
            return false;
        }
        try
        {
            await session.ArchiveSessionAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (SessionNotFoundException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public Task<UsageStats> GetUsageStatsAsync(CancellationToken cancellationToken = default)
    {
        EnsureConnected();
        return Store.ComputeUsageStatsAsync(cancellationToken);
    }

    // ---- Sessions in use ------------------------------------------------------------------------------------

    /// <summary>The link of a session: the one in use, else found in the store (one lookup); null when there is none.</summary>
    internal ValueTask<SessionLink?> FindLinkAsync(string sessionId, CancellationToken cancellationToken) => _links.FindOrOpenAsync(sessionId, cancellationToken);

    /// <summary>True when <paramref name="userId"/> owns the session (ordinal; a session without an owner is no user's).</summary>
    internal static bool Owns(SessionMetadata metadata, string userId) => string.Equals(metadata.UserId, userId, StringComparison.Ordinal);

    /// <summary>A user's listing never shows another user's session, whatever the store's index holds.</summary>
    private static async Task<IReadOnlyList<SessionMetadata>> OnlyOwnedAsync(Task<IReadOnlyList<SessionMetadata>> page, string userId)
    {
        var found = await page.ConfigureAwait(false);
        return found.All(m => Owns(m, userId)) ? found : found.Where(m => Owns(m, userId)).ToList();
    }

    /// <summary>Removes a session when <paramref name="expired"/> still holds under its lock (<see cref="SessionLinks.RemoveIfAsync"/>).</summary>
    internal Task<bool> RemoveIfAsync(string sessionId, Func<SessionMetadata, bool> expired, CancellationToken cancellationToken) =>
        _links.RemoveIfAsync(sessionId, expired, cancellationToken);

    /// <summary>Queues a session for the background summarizer.</summary>
    internal void QueueSummary(SessionLink link) => _summaries.Enqueue(link);

    /// <summary>Queues every session whose state says a summary or an eviction is owed (after connect).</summary>
    private async Task QueueOwedSummariesAsync(CancellationToken cancellationToken)
    {
        if (await Store.FindSessionsOwingSummariesAsync(cancellationToken).ConfigureAwait(false) is { } owing)
        {
            // The store keeps track: only the sessions it names are looked at, however large the store.
            foreach (var id in owing)
            {
                var link = await FindLinkAsync(id, cancellationToken).ConfigureAwait(false);
                if (link is not null && SummaryChain.Due(link.Handle.State))
                {
                    _summaries.Enqueue(link);
                }
            }
            return;
        }
        const int Page = 500;
        for (var offset = 0; !cancellationToken.IsCancellationRequested; offset += Page)
        {
            var page = await Store.QuerySessionsAsync(new SessionQuery(null, SessionStatus.Active, Page, offset), cancellationToken).ConfigureAwait(false);
            foreach (var m in page)
            {
                if (!SummaryChain.Automatic(m))
                {
                    continue;
                }
                var link = await FindLinkAsync(m.SessionId, cancellationToken).ConfigureAwait(false);
                if (link is not null && SummaryChain.Due(link.Handle.State))
                {
                    _summaries.Enqueue(link);
                }
            }
            if (page.Count < Page)
            {
                return;
            }
        }
    }

    // ---- Shared helpers -------------------------------------------------------------------------------------

    /// <summary>Throws when not connected.</summary>
    protected internal void EnsureConnected()
    {
        if (!_connected)
        {
            throw new BackendUnavailableException($"Backend '{Name}' is not connected; call ConnectAsync first.");
        }
    }

    /// <summary>Remembers an error for the health report.</summary>
    protected internal void RecordError(string message) => _lastError = message;
}
